// API key checks of the HTTP modules (http_module.<module>.auth.mode = apikey).
// The key comes as the user name of `Authorization: Basic` (empty password) or
// in an `x-api-key` header, as in VerneMQ; a missing, wrong or expired key gets
// 401 with one fixed line, whatever the reason.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ApiKeys, ApiKeyScope } from '../api-keys.js'

/** VerneMQ's HTTP modules vmq-ts serves, and the scope their keys need. */
export const HTTP_MODULES = {
  vmq_metrics_http: 'metrics',
  vmq_health_http: 'health',
  vmq_status_http: 'status'
} as const satisfies Record<string, ApiKeyScope>
export type HttpModule = keyof typeof HTTP_MODULES

export const UNAUTHORIZED_BODY = 'Unauthorized\n'

/** The key a request presents, if any: Basic user name when an Authorization header is there, else x-api-key. */
export function presentedKey (req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization
  if (authorization !== undefined) {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization)
    if (m === null) return undefined
    const decoded = Buffer.from(m[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon < 0 ? decoded : decoded.slice(0, colon)
  }
  const header = req.headers['x-api-key']
  return typeof header === 'string' ? header : undefined
}

/** Whether the request carries a valid key of the scope. */
export function hasApiKey (req: IncomingMessage, scope: ApiKeyScope, keys: ApiKeys): boolean {
  const key = presentedKey(req)
  return key !== undefined && key !== '' && keys.allows(key, scope)
}

export function refuse (res: ServerResponse): void {
  res.writeHead(401, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(UNAUTHORIZED_BODY),
    'www-authenticate': 'Authorization realm="VerneMQ"'
  })
  res.end(UNAUTHORIZED_BODY)
}

/**
 * For a route of `module`: true when the request may go on (auth.mode noauth,
 * or a valid key); otherwise answers 401 and returns false.
 */
export function checkApiKey (req: IncomingMessage, res: ServerResponse, module: HttpModule, mode: string, keys: ApiKeys): boolean {
  if (mode !== 'apikey' || hasApiKey(req, HTTP_MODULES[module], keys)) return true
  refuse(res)
  return false
}
