import { createServer, type IncomingMessage, type Server } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { ListenerConfig } from '../../config/load.js'
import { SocketListener } from './socket.js'
import { verifiedInfo, watchHandshakes } from './tls.js'
import { TlsCredentials } from './tls-context.js'
import type { ConnectionInfo, ListenerContext } from './types.js'

/** The only path VerneMQ serves MQTT over WebSocket on. */
export const WS_PATH = '/mqtt'
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1']

/** MQTT over WebSocket at /mqtt. */
export class WsListener extends SocketListener {
  readonly kind: 'mqttws' | 'mqttwss' = 'mqttws'
  private readonly wss: WebSocketServer

  constructor (config: ListenerConfig, ctx: ListenerContext, protected readonly http: Server | HttpsServer = createServer()) {
    super(config, ctx)
    this.http.on('request', (req: IncomingMessage, res) => {
      res.writeHead(req.url === WS_PATH ? 426 : 404, { 'content-type': 'text/plain' })
      res.end(req.url === WS_PATH ? 'Upgrade to WebSocket required\n' : 'Not found\n')
    })
    const maxPayload = config.options.get('max_ws_frame_size')
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: typeof maxPayload === 'number' ? maxPayload : undefined,
      handleProtocols: offered => SUBPROTOCOLS.find(p => offered.has(p)) ?? false
    })
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { this.upgrade(req, socket, head) })
  }

  protected serve (socket: Socket): void {
    // The HTTP server is not listening itself: it takes over sockets we accepted.
    this.http.emit('connection', socket)
    // Bytes that followed a PROXY header wait in the paused socket; the HTTP
    // server reads them through its 'data' listener once the socket flows.
    if (socket.isPaused()) socket.resume()
  }

  /** What is known about the client of an upgrade request; undefined = refused (socket closed). */
  protected upgradeInfo (req: IncomingMessage): ConnectionInfo | undefined {
    return this.connectionInfo(req.socket)
  }

  private upgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0]
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const info = this.upgradeInfo(req)
    if (info === undefined) return
    this.wss.handleUpgrade(req, socket, head, ws => {
      this.ctx.accept(createWebSocketStream(ws), this, info, req)
    })
  }
}

/** MQTT over WebSocket over TLS at /mqtt. */
export class WssListener extends WsListener {
  override readonly kind = 'mqttwss'
  readonly credentials: TlsCredentials

  constructor (config: ListenerConfig, ctx: ListenerContext) {
    const credentials = new TlsCredentials(config)
    const https = createHttpsServer(credentials.serverOptions())
    watchHandshakes(https, config, ctx)
    super(config, ctx, https)
    this.credentials = credentials
  }

  protected override serve (socket: Socket): void {
    this.credentials.refresh(this.http as HttpsServer, this.ctx.log)
    // The TLS layer reads bytes that followed a PROXY header from the socket itself.
    this.http.emit('connection', socket)
  }

  protected override upgradeInfo (req: IncomingMessage): ConnectionInfo | undefined {
    return verifiedInfo(this.credentials, this.connectionInfo(req.socket), req.socket as TLSSocket, this.config, this.ctx)
  }

  reloadCertificates (): void {
    this.credentials.refresh(this.http as HttpsServer, this.ctx.log, true)
  }
}
