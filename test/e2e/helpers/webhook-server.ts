// A real HTTP server for webhook tests, on loopback: it records every call
// (hook header and JSON body) and answers as the test says.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HookCall { hook: string, path: string, body: Record<string, unknown> }

/** How to answer one call: a JSON body (status 200 unless given), or never. */
/** delayMs: the answer comes that long after the call (a slow endpoint) */
export type Reply = { status?: number, json?: unknown, raw?: string, headers?: Record<string, string>, delayMs?: number } | 'hang'

export type Responder = (call: HookCall) => Reply

export class WebhookServer {
  readonly calls: HookCall[] = []
  private readonly hanging = new Set<ServerResponse>()

  private constructor (private readonly server: Server, readonly port: number, public respond: Responder) {}

  static async start (respond: Responder): Promise<WebhookServer> {
    let self: WebhookServer | undefined
    const server = createServer((req, res) => { self?.handle(req, res) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    self = new WebhookServer(server, (server.address() as AddressInfo).port, respond)
    return self
  }

  url (path: string): string {
    return `http://127.0.0.1:${this.port}${path}`
  }

  /** Calls of one hook, in arrival order. */
  of (hook: string): HookCall[] {
    return this.calls.filter(c => c.hook === hook)
  }

  async stop (): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const call = { hook: String(req.headers['vernemq-hook']), path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }
      this.calls.push(call)
      const reply = this.respond(call)
      if (reply === 'hang') {
        this.hanging.add(res)
        res.on('close', () => this.hanging.delete(res))
        return
      }
      const text = reply.raw ?? JSON.stringify(reply.json ?? {})
      const send = (): void => {
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers })
        res.end(text)
      }
      if (reply.delayMs === undefined) send()
      else setTimeout(send, reply.delayMs)
    })
  }
}
