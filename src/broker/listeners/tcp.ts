import type { Socket } from 'node:net'
import { SocketListener } from './socket.js'

/** Plain MQTT over TCP. */
export class TcpListener extends SocketListener {
  readonly kind = 'mqtt'

  protected serve (socket: Socket): void {
    this.ctx.accept(socket, this, this.connectionInfo(socket))
  }
}
