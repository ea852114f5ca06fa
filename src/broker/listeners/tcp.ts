import type { Socket } from 'node:net'
import { SocketListener } from './socket.js'
import { corkPerTurn } from '../delivery/cork.js'

/** Plain MQTT over TCP. */
export class TcpListener extends SocketListener {
  readonly kind = 'mqtt'

  protected serve (socket: Socket): void {
    corkPerTurn(socket)
    this.ctx.accept(socket, this, this.connectionInfo(socket))
  }
}
