import type { Socket } from 'node:net'
import { SocketListener } from './socket.js'
import { batchWrites } from './write-batching.js'

/** Plain MQTT over TCP. */
export class TcpListener extends SocketListener {
  readonly kind = 'mqtt'

  protected serve (socket: Socket): void {
    batchWrites(socket)
    this.ctx.accept(socket, this, this.connectionInfo(socket))
  }
}
