import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws'
import type { ListenerConfig } from '../../config/load.js'
import { boundPort, listenOn } from './listen.js'
import { maxConnections, type ConnectionHandler, type MqttListener } from './types.js'

/** The only path VerneMQ serves MQTT over WebSocket on. */
export const WS_PATH = '/mqtt'
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1']

/** MQTT over WebSocket at /mqtt. */
export class WsListener implements MqttListener {
  readonly kind = 'mqttws'
  status: 'running' | 'suspended' = 'running'
  private readonly server: Server
  private readonly wss: WebSocketServer
  private readonly sockets = new Set<WebSocket>()

  constructor (readonly config: ListenerConfig, private readonly onConnection: ConnectionHandler) {
    this.server = createServer((req, res) => {
      res.writeHead(req.url === WS_PATH ? 426 : 404, { 'content-type': 'text/plain' })
      res.end(req.url === WS_PATH ? 'Upgrade to WebSocket required\n' : 'Not found\n')
    })
    const maxPayload = config.options.get('max_ws_frame_size')
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: typeof maxPayload === 'number' ? maxPayload : undefined,
      handleProtocols: offered => SUBPROTOCOLS.find(p => offered.has(p)) ?? false
    })
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { this.upgrade(req, socket, head) })
  }

  private upgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0]
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    if (this.sockets.size >= maxConnections(this.config)) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    this.wss.handleUpgrade(req, socket, head, ws => {
      this.sockets.add(ws)
      ws.once('close', () => this.sockets.delete(ws))
      this.onConnection(createWebSocketStream(ws), this, req)
    })
  }

  port (): number { return boundPort(this.server, this.config.port) }
  connections (): number { return this.sockets.size }

  async start (): Promise<void> {
    await listenOn(this.server, this.config, `listener.ws.${this.config.name}`)
  }

  async close (): Promise<void> {
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    for (const ws of this.sockets) ws.terminate()
    this.server.closeAllConnections()
    await closed
  }
}
