// The paths of the HTTP listeners and the module each belongs to (the module
// decides the API key check). A feature adds its pages with `add`.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HttpModule } from './http-auth.js'

export interface HttpRoute {
  /** exact path, or with `prefix` every path below it too (`/status` also serves `/status/app.js`) */
  path: string
  prefix?: boolean
  module: HttpModule
  handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>
}

export class HttpRoutes {
  private readonly routes: HttpRoute[] = []

  add (route: HttpRoute): void {
    if (this.routes.some(r => r.path === route.path)) throw new Error(`HTTP path ${route.path} is registered twice`)
    this.routes.push(route)
  }

  /** The route of a path: an exact one first, else the longest prefix route. */
  find (path: string): HttpRoute | undefined {
    const exact = this.routes.find(r => r.path === path)
    if (exact !== undefined) return exact
    return this.routes
      .filter(r => r.prefix === true && path.startsWith(r.path.endsWith('/') ? r.path : r.path + '/'))
      .sort((a, b) => b.path.length - a.path.length)[0]
  }
}

export function reply (res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

export function replyJson (res: ServerResponse, code: number, body: unknown): void {
  reply(res, code, 'application/json', JSON.stringify(body))
}
