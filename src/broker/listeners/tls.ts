import type { Socket } from 'node:net'
import { createServer, type Server, type TLSSocket } from 'node:tls'
import type { ListenerConfig } from '../../config/load.js'
import { corkPerTurn } from '../delivery/cork.js'
import { SocketListener } from './socket.js'
import { TlsCredentials } from './tls-context.js'
import { listenerKey, type ConnectionInfo, type ListenerContext } from './types.js'

/** MQTT over TLS. Certificate files are checked when built and re-read when they change. */
export class TlsListener extends SocketListener {
  readonly kind = 'mqtts'
  readonly credentials: TlsCredentials
  private readonly tls: Server

  constructor (config: ListenerConfig, ctx: ListenerContext) {
    super(config, ctx)
    this.credentials = new TlsCredentials(config)
    this.tls = createServer(this.credentials.serverOptions(), socket => { this.secured(socket) })
    watchHandshakes(this.tls, this.config, ctx)
  }

  protected serve (socket: Socket): void {
    this.credentials.refresh(this.tls, this.ctx.log)
    // The TLS server is not listening itself: it takes over sockets we accepted.
    this.tls.emit('connection', socket)
  }

  private secured (socket: TLSSocket): void {
    const info = verifiedInfo(this.credentials, this.connectionInfo(socket), socket, this.config, this.ctx)
    if (info === undefined) return
    corkPerTurn(socket)
    this.ctx.accept(socket, this, info)
  }

  reloadCertificates (): void {
    this.credentials.refresh(this.tls, this.ctx.log, true)
  }
}

/** Logs failed handshakes (no or untrusted client certificate, timeouts, garbage). */
export function watchHandshakes (server: Server, config: ListenerConfig, ctx: ListenerContext): void {
  server.on('tlsClientError', (err, socket) => {
    ctx.log.info({ listener: listenerKey(config), peer: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message }, 'TLS handshake failed')
    socket.destroy()
  })
}

/**
 * The connection info after a handshake: the certificate CN added, and with
 * use_identity_as_username the CN as the username. Undefined (and the socket
 * closed) when the client certificate is refused.
 */
export function verifiedInfo (credentials: TlsCredentials, base: ConnectionInfo, socket: TLSSocket, config: ListenerConfig, ctx: ListenerContext): ConnectionInfo | undefined {
  const verdict = credentials.verifyClient(socket)
  if (verdict.refused !== undefined) {
    ctx.log.info({ listener: listenerKey(config), peer: `${base.peerHost}:${base.peerPort}`, reason: verdict.refused }, 'client certificate refused, connection closed')
    socket.destroy()
    return undefined
  }
  const info = { ...base }
  if (verdict.commonName !== undefined) {
    info.certCommonName = verdict.commonName
    if (credentials.useIdentityAsUsername) info.preauthUsername = verdict.commonName
  }
  return info
}
