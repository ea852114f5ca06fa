// What every MQTT listener shares: a TCP server on the listener's address,
// the connection limit, the optional PROXY header, suspend/resume for
// `listener stop`/`restart`, and closing its connections. Subclasses say how
// an accepted socket becomes an MQTT stream (plain, TLS, WebSocket).
import { createServer, type Server, type Socket } from 'node:net'
import type { ListenerConfig } from '../../config/load.js'
import { boundPort, listenOn } from './listen.js'
import { readProxyHeader } from './proxy.js'
import { listenerKey, maxConnections, type ConnectionInfo, type ListenerContext, type ListenerKind, type ListenerStatus, type MqttListener } from './types.js'

/** Time a proxied connection has to send its PROXY header. */
export const PROXY_HEADER_TIMEOUT_MS = 10000

/** The address of a socket's other end; TLS and HTTP sockets share it with the TCP socket they wrap. */
export function endpointOf (socket: { remoteAddress?: string, remotePort?: number }): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`
}

export abstract class SocketListener implements MqttListener {
  abstract readonly kind: ListenerKind
  status: ListenerStatus = 'running'
  private server: Server | undefined
  private bound: number | undefined
  private readonly sockets = new Set<Socket>()
  /** what the PROXY header (or the socket) said about each open connection, by endpoint */
  private readonly peers = new Map<string, ConnectionInfo>()

  constructor (readonly config: ListenerConfig, protected readonly ctx: ListenerContext) {}

  /** Turns an accepted (and, with proxy_protocol, unwrapped) socket into an MQTT connection. */
  protected abstract serve (socket: Socket): void

  port (): number { return this.bound ?? this.config.port }
  connections (): number { return this.sockets.size }

  async start (): Promise<void> {
    if (this.config.external === true) {
      // the workers' primary accepts on the port and hands connections over (adopt)
      this.bound = this.config.port
      this.status = 'running'
      return
    }
    const server = createServer(socket => { this.accept(socket) })
    await listenOn(server, { host: this.config.host, port: this.port() }, this.config.runtime === true ? undefined : listenerKey(this.config))
    this.bound = boundPort(server, this.config.port)
    this.server = server
    this.status = 'running'
  }

  /** A connection accepted by the workers' primary for this listener. */
  adopt (socket: Socket): void {
    if (this.status !== 'running') {
      socket.destroy()
      return
    }
    this.accept(socket)
  }

  async suspend (): Promise<void> {
    // Closing the server stops accepting; connections already accepted stay open.
    this.server?.close()
    this.server = undefined
    this.status = 'suspended'
  }

  async resume (): Promise<void> {
    if (this.server === undefined) await this.start()
  }

  dropConnections (): void {
    for (const socket of this.sockets) socket.destroy()
  }

  async close (): Promise<void> {
    await this.suspend()
    this.dropConnections()
  }

  /** What is known about the client on the other end of `socket` (or of a stream wrapping it). */
  protected connectionInfo (socket: { remoteAddress?: string, remotePort?: number }): ConnectionInfo {
    // no PROXY header read (the usual case): no endpoint string to build
    const proxied = this.peers.size === 0 ? undefined : this.peers.get(endpointOf(socket))
    return proxied ?? { peerHost: socket.remoteAddress, peerPort: socket.remotePort }
  }

  private readonly socketError = (err: Error): void => {
    this.ctx.log.debug({ listener: listenerKey(this.config), err: err.message }, 'socket error')
  }

  /** (`this` is the socket; its address stays readable once it is closed) */
  private readonly socketClosed = ((listener: SocketListener) => function (this: Socket): void {
    listener.sockets.delete(this)
    if (listener.peers.size > 0) listener.peers.delete(endpointOf(this))
  })(this)

  private accept (socket: Socket): void {
    if (this.sockets.size >= maxConnections(this.config)) {
      this.ctx.log.debug({ listener: listenerKey(this.config), peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'max_connections reached, connection closed')
      socket.destroy()
      return
    }
    // Small MQTT packets must not wait for Nagle's algorithm (latency).
    socket.setNoDelay(true)
    this.sockets.add(socket)
    // one listener of each for every connection of the listener; 'close' comes once: `on` spares the wrapper `once` makes
    socket.on('error', this.socketError)
    socket.on('close', this.socketClosed)
    if (this.config.options.get('proxy_protocol') !== true) {
      this.serve(socket)
      return
    }
    const endpoint = endpointOf(socket)
    readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS).then(header => {
      if (socket.destroyed) return
      const info: ConnectionInfo = {
        peerHost: header.source?.host ?? socket.remoteAddress,
        peerPort: header.source?.port ?? socket.remotePort
      }
      if (header.commonName !== undefined) {
        info.certCommonName = header.commonName
        if (this.config.options.get('proxy_protocol_use_cn_as_username') === true) info.preauthUsername = header.commonName
      }
      this.peers.set(endpoint, info)
      this.serve(socket)
    }, (err: Error) => {
      this.ctx.log.warn({ listener: listenerKey(this.config), peer: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message }, 'PROXY protocol header missing or invalid, connection closed')
      socket.destroy()
    })
  }
}
