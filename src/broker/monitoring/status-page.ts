// The status page (GET /status): one static HTML file shipped in the package
// (static/status.html), read once; it fetches /status.json itself.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../version.js'

let page: string | undefined

export function statusPage (): string {
  page ??= readFileSync(join(packageRoot(), 'static', 'status.html'), 'utf8')
  return page
}
