// POSTs one hook call to one endpoint over a kept-alive connection pool (one
// per endpoint URL, as VerneMQ keeps one pool per endpoint: a slow endpoint
// uses up only its own connections), and reads the answer within the hook's
// response_timeout.
import http from 'node:http'
import https from 'node:https'
import { checkServerIdentity, type PeerCertificate } from 'node:tls'
import { intermediateCount } from '../cert-chain.js'

/** What an endpoint answered, or why there is no usable answer. */
export type HttpAnswer =
  | { ok: true, body: unknown, maxAge: number | undefined }
  | { ok: false, reason: string }

/** A larger answer is cut off: no hook answer needs that much, and it would sit in memory. */
const MAX_ANSWER_BYTES = 1024 * 1024

/**
 * TLS for https:// endpoints: CA, client certificate and key (PEM), whether to
 * verify the server, the one TLS version used, and how many intermediate CAs
 * the server's chain may have (vmq_webhooks.depth).
 */
export interface EndpointTls { ca?: Buffer, cert?: Buffer, key?: Buffer, verifyPeer: boolean, version: 'TLSv1.2' | 'TLSv1.3', depth: number }

export interface PoolSettings { maxConnections: number, idleTimeout: number, tls: () => EndpointTls }

export class EndpointPools {
  private readonly agents = new Map<string, http.Agent>()
  /** pools replaced by reset: their calls finish, their idle connections close after pool_timeout */
  private retired: http.Agent[] = []

  constructor (private readonly settings: () => PoolSettings) {}

  post (endpoint: string, hook: string, body: string, timeoutMs: number): Promise<HttpAnswer> {
    let url: URL
    try {
      url = new URL(endpoint)
    } catch {
      return Promise.resolve({ ok: false, reason: 'invalid_endpoint' })
    }
    const lib = url.protocol === 'https:' ? https : http
    let agent: http.Agent
    try {
      agent = this.agent(endpoint, url)
    } catch (err) {
      return Promise.resolve({ ok: false, reason: (err as Error).message })
    }
    return new Promise(resolve => {
      const req = lib.request(url, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'vernemq-hook': hook, 'content-length': Buffer.byteLength(body) }
      })
      const timer = setTimeout(() => {
        req.destroy()
        resolve({ ok: false, reason: 'timeout' })
      }, timeoutMs)
      const finish = (answer: HttpAnswer): void => {
        clearTimeout(timer)
        resolve(answer)
      }
      req.on('error', err => { finish({ ok: false, reason: (err as NodeJS.ErrnoException).code ?? err.message }) })
      req.on('response', res => { readAnswer(res, finish) })
      req.end(body)
    })
  }

  /** Pool settings changed: calls from now on use new pools; calls under way finish on the old ones. */
  reset (): void {
    const busy = (a: http.Agent): boolean => Object.keys(a.sockets).length + Object.keys(a.freeSockets).length > 0
    this.retired = [...this.retired.filter(busy), ...this.agents.values()]
    this.agents.clear()
  }

  close (): void {
    for (const agent of [...this.agents.values(), ...this.retired]) agent.destroy()
    this.agents.clear()
    this.retired = []
  }

  private agent (key: string, url: URL): http.Agent {
    let agent = this.agents.get(key)
    if (agent === undefined) {
      const { maxConnections, idleTimeout, tls } = this.settings()
      const options = { keepAlive: true, maxSockets: maxConnections, timeout: idleTimeout }
      agent = url.protocol === 'https:' ? new https.Agent({ ...options, ...tlsOptions(tls()) }) : new http.Agent(options)
      this.agents.set(key, agent)
    }
    return agent
  }
}

function tlsOptions (tls: EndpointTls): https.AgentOptions {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: tls.verifyPeer,
    minVersion: tls.version,
    maxVersion: tls.version,
    // Node passes the whole chain (getPeerCertificate(true)); a refusal here counts only when verify_peer is on
    checkServerIdentity: (host: string, cert: PeerCertificate) => checkServerIdentity(host, cert) ?? chainTooDeep(cert, tls.depth)
  }
}

function chainTooDeep (cert: PeerCertificate, depth: number): Error | undefined {
  const intermediates = intermediateCount(cert as Parameters<typeof intermediateCount>[0])
  if (intermediates <= depth) return undefined
  return Object.assign(new Error(`certificate chain has ${intermediates} intermediate CA(s), more than vmq_webhooks.depth = ${depth}`), { code: 'CERT_CHAIN_TOO_LONG' })
}

function readAnswer (res: http.IncomingMessage, finish: (a: HttpAnswer) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  res.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > MAX_ANSWER_BYTES) {
      res.destroy()
      finish({ ok: false, reason: 'answer_too_large' })
      return
    }
    chunks.push(chunk)
  })
  res.on('error', err => { finish({ ok: false, reason: err.message }) })
  res.on('end', () => {
    if (res.statusCode !== 200) {
      finish({ ok: false, reason: `invalid_response_code ${String(res.statusCode)}` })
      return
    }
    let body: unknown
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      finish({ ok: false, reason: 'received_payload_not_json' })
      return
    }
    finish({ ok: true, body, maxAge: maxAge(res.headers['cache-control']) })
  })
}

/** `max-age=<seconds>` anywhere in a cache-control header, as VerneMQ reads it. */
export function maxAge (header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  const m = /max-age=(\d+)/.exec(header)
  return m === null ? undefined : Number(m[1])
}
