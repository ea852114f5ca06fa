import { createServer, type Server, type Socket } from 'node:net'
import type { ListenerConfig } from '../../config/load.js'
import { boundPort, listenOn } from './listen.js'
import { maxConnections, type ConnectionHandler, type MqttListener } from './types.js'

/** Plain MQTT over TCP. */
export class TcpListener implements MqttListener {
  readonly kind = 'mqtt'
  status: 'running' | 'suspended' = 'running'
  private readonly sockets = new Set<Socket>()
  private readonly server: Server

  constructor (readonly config: ListenerConfig, private readonly onConnection: ConnectionHandler) {
    this.server = createServer(socket => { this.accept(socket) })
    const max = maxConnections(config)
    // net.Server closes connections beyond maxConnections as soon as they are accepted.
    if (Number.isFinite(max)) this.server.maxConnections = max
  }

  private accept (socket: Socket): void {
    // Small MQTT packets must not wait for Nagle's algorithm (latency).
    socket.setNoDelay(true)
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    this.onConnection(socket, this)
  }

  port (): number { return boundPort(this.server, this.config.port) }
  connections (): number { return this.sockets.size }

  async start (): Promise<void> {
    await listenOn(this.server, this.config, `listener.tcp.${this.config.name}`)
  }

  async close (): Promise<void> {
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    await closed
  }
}
