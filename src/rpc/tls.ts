// TLS for the gRPC transport (a vmqs cluster listener): server credentials,
// client channels that check the server certificate against the address they
// dial, and a one-line explanation when a connection fails at the TLS layer.
import * as grpc from '@grpc/grpc-js'
import { isIP } from 'node:net'
import { checkServerIdentity, connect, type ConnectionOptions, type PeerCertificate } from 'node:tls'

/** Certificates of a vmqs listener (PEM, key unencrypted). */
export interface ServerTls {
  ca?: Buffer
  cert: Buffer
  key: Buffer
  /** refuse clients without a certificate signed by `ca` (mutual TLS) */
  requireCertificate: boolean
}

/** What a client trusts and presents: `ca` (else the system roots) and an optional client certificate. */
export interface ClientTls {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
}

export interface Channel {
  credentials: grpc.ChannelCredentials
  options: grpc.ChannelOptions
}

/**
 * SNI name sent when a member is dialled by IP address: Node deprecates an IP
 * as TLS server name (DEP0123). The certificate is still checked against the IP.
 */
const IP_SERVER_NAME = 'vmq-cluster-member'

export function serverCredentials (tls: ServerTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure()
  return grpc.ServerCredentials.createSsl(tls.ca ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.requireCertificate)
}

/** Credentials and channel options for dialling `address` (host:port), plain when `tls` is undefined. */
export function channel (address: string, tls: ClientTls | undefined, options: grpc.ChannelOptions = {}): Channel {
  if (tls === undefined) return { credentials: grpc.credentials.createInsecure(), options }
  const host = hostOf(address)
  if (isIP(host) === 0) return { credentials: grpc.credentials.createSsl(tls.ca, tls.key, tls.cert), options }
  return {
    credentials: grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, {
      checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert)
    }),
    options: { ...options, 'grpc.ssl_target_name_override': IP_SERVER_NAME }
  }
}

function hostOf (address: string): string {
  const bracketed = /^\[(.+)\]:\d+$/.exec(address)
  if (bracketed !== null) return bracketed[1]
  return address.slice(0, address.lastIndexOf(':'))
}

/** How long the explanation waits for the server's verdict on a client certificate after the handshake. */
const VERDICT_WAIT_MS = 1000

/**
 * Why `address` could not be reached over this transport, when the reason is
 * TLS: a plain client at a TLS listener, a TLS client at a plain one, or a
 * failed handshake; said of the node ("it ..."). Undefined when nothing
 * answers or TLS is not the problem.
 */
export async function explainTlsFailure (address: string, tls: ClientTls | undefined, timeoutMs = 2000): Promise<string | undefined> {
  const outcome = await handshake(address, tls, timeoutMs)
  if (tls === undefined) {
    return outcome.kind === 'tls' || outcome.kind === 'refused'
      ? 'it expects TLS (its cluster listener is vmqs) and this connection is plain'
      : undefined
  }
  switch (outcome.kind) {
    case 'plain': return 'TLS handshake failed: it does not answer TLS (a plain vmq listener?)'
    case 'untrusted': return `TLS handshake failed: ${outcome.reason} (its certificate is not trusted)`
    case 'refused': return `TLS handshake failed: ${outcome.reason} (it does not accept this client certificate)`
    default: return undefined
  }
}

type Outcome = { kind: 'tls' | 'none' | 'plain' } | { kind: 'untrusted' | 'refused', reason: string }

/** One TLS handshake, as a gRPC client would make it, and the server's verdict on our certificate. */
async function handshake (address: string, tls: ClientTls | undefined, timeoutMs: number): Promise<Outcome> {
  const host = hostOf(address)
  const options: ConnectionOptions = {
    host,
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    ALPNProtocols: ['h2'],
    rejectUnauthorized: tls !== undefined,
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key
  }
  if (isIP(host) === 0) options.servername = host
  return await new Promise<Outcome>(resolve => {
    const socket = connect(options)
    let secured = false
    let timer = setTimeout(() => { finish({ kind: 'none' }) }, timeoutMs)
    const finish = (outcome: Outcome): void => {
      clearTimeout(timer)
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.destroy()
      resolve(outcome)
    }
    socket.once('secureConnect', () => {
      secured = true
      clearTimeout(timer)
      // TLS 1.3: the server judges the client certificate after our side finished
      timer = setTimeout(() => { finish({ kind: 'tls' }) }, VERDICT_WAIT_MS)
    })
    socket.once('data', () => { finish({ kind: 'tls' }) })
    // a gRPC server closes without an alert when it rejects the client certificate
    socket.once('close', () => { finish(secured ? { kind: 'refused', reason: 'it closed the connection right after the handshake' } : { kind: 'none' }) })
    socket.once('error', (err: NodeJS.ErrnoException & { reason?: string }) => { finish(classify(err, secured)) })
  })
}

function classify (err: NodeJS.ErrnoException & { reason?: string }, secured: boolean): Outcome {
  const code = err.code ?? ''
  if (code.startsWith('ERR_SSL_') && /ALERT/.test(code)) return { kind: 'refused', reason: err.reason ?? err.message }
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') return { kind: 'none' }
  if (secured) return { kind: 'tls' }
  if (code === 'ECONNRESET' || /before secure TLS connection/.test(err.message) || code.startsWith('ERR_SSL_')) return { kind: 'plain' }
  return { kind: 'untrusted', reason: err.message }
}
