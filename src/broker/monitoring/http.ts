// The HTTP listener (listener.http.NAME): /metrics, the /health checks and
// the status page (/status, /status.json).
// It is a socket listener like the MQTT ones (max_connections, `listener
// stop`/`restart`), whose accepted sockets go to a node:http server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import type { ListenerConfig } from '../../config/load.js'
import { SocketListener } from '../listeners/socket.js'
import { TlsCredentials } from '../listeners/tls-context.js'
import { watchHandshakes } from '../listeners/tls.js'
import type { ListenerContext } from '../listeners/types.js'
import { health, listenersHealth, type HealthAnswer, type HealthSource } from './health.js'
import type { NodeMetrics } from './metrics.js'
import type { StatusJson } from './cluster-status.js'
import { statusPage } from './status-page.js'

export interface MonitoringSource extends HealthSource {
  metrics: NodeMetrics
  /** every member's figures, gathered from the members */
  status: () => Promise<StatusJson>
}

export class HttpListener extends SocketListener {
  readonly kind: 'http' | 'https' = 'http'
  protected readonly http

  constructor (config: ListenerConfig, ctx: ListenerContext, private readonly source: MonitoringSource) {
    super(config, ctx)
    this.http = createServer((req, res) => { this.handle(req, res) })
  }

  protected serve (socket: Socket): void {
    this.http.emit('connection', socket)
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'text/plain', `${req.method ?? ''} not allowed\n`)
      return
    }
    switch (path) {
      case '/metrics':
        this.source.metrics.text().then(
          text => { reply(res, 200, this.source.metrics.contentType, text) },
          (err: Error) => { reply(res, 500, 'text/plain', `metrics failed: ${err.message}\n`) })
        return
      case '/health': json(res, health(this.source)); return
      case '/health/ping': json(res, { code: 200, body: { status: 'OK' } }); return
      case '/health/listeners': json(res, listenersHealth(this.source)); return
      case '/status': servePage(res); return
      case '/status.json':
        this.source.status().then(
          status => { reply(res, 200, 'application/json', JSON.stringify(status)) },
          (err: Error) => { reply(res, 500, 'text/plain', `status failed: ${err.message}\n`) })
        return
      default: reply(res, 404, 'text/plain', `not found: ${path}\n`)
    }
  }
}

function servePage (res: ServerResponse): void {
  let page: string
  try {
    page = statusPage()
  } catch (err) {
    reply(res, 500, 'text/plain', `status page not readable: ${(err as Error).message}\n`)
    return
  }
  reply(res, 200, 'text/html; charset=utf-8', page)
}

function json (res: ServerResponse, answer: HealthAnswer): void {
  reply(res, answer.code, 'application/json', JSON.stringify(answer.body))
}

function reply (res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** The HTTP listener over TLS (listener.https.NAME), with the ssl listeners' certfile/keyfile/cafile options. */
export class HttpsListener extends HttpListener {
  override readonly kind = 'https'
  readonly credentials: TlsCredentials
  private readonly tls: TlsServer

  constructor (config: ListenerConfig, ctx: ListenerContext, source: MonitoringSource) {
    super(config, ctx, source)
    this.credentials = new TlsCredentials(config)
    this.tls = createTlsServer(this.credentials.serverOptions(), socket => { this.http.emit('connection', socket) })
    watchHandshakes(this.tls, config, ctx)
  }

  protected override serve (socket: Socket): void {
    this.credentials.refresh(this.tls, this.ctx.log)
    this.tls.emit('connection', socket)
  }

  reloadCertificates (): void {
    this.credentials.refresh(this.tls, this.ctx.log, true)
  }
}
