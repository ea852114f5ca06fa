// The HTTP listener (listener.http.NAME): the node's HTTP routes (/metrics,
// the /health checks, ...), each behind its module's API key check. It is a
// socket listener like the MQTT ones (max_connections, `listener
// stop`/`restart`), whose accepted sockets go to a node:http server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import type { ListenerConfig } from '../../config/load.js'
import { SocketListener } from '../listeners/socket.js'
import { TlsCredentials } from '../listeners/tls-context.js'
import { watchHandshakes } from '../listeners/tls.js'
import type { ListenerContext } from '../listeners/types.js'
import type { ApiKeys } from '../api-keys.js'
import { checkApiKey, type HttpModule } from './http-auth.js'
import type { NodeMetrics } from './metrics.js'
import { reply, type HttpRoutes } from './routes.js'

export interface MonitoringSource {
  metrics: NodeMetrics
  routes: HttpRoutes
  /** http_module.<module>.auth.mode: noauth or apikey */
  authMode: (module: HttpModule) => string
  apiKeys: ApiKeys
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

  /** listener.http.NAME.http_module.<module>.auth.mode, else http_module.<module>.auth.mode */
  private authMode (module: HttpModule): string {
    const own = this.config.options.get(`http_module.${module}.auth.mode`)
    return typeof own === 'string' ? own : this.source.authMode(module)
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    const route = this.source.routes.find(path)
    if (route === undefined) {
      reply(res, 404, 'text/plain', `not found: ${path}\n`)
      return
    }
    // the key first: a request without one learns nothing, not even the methods allowed
    if (!checkApiKey(req, res, route.module, this.authMode(route.module), this.source.apiKeys)) return
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'text/plain', `${req.method ?? ''} not allowed\n`)
      return
    }
    Promise.resolve().then(async () => { await route.handle(req, res) }).catch((err: Error) => {
      this.ctx.log.error({ path, err: err.message }, 'HTTP request failed')
      if (!res.headersSent) reply(res, 500, 'text/plain', `${path} failed\n`)
      else res.destroy()
    })
  }
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
