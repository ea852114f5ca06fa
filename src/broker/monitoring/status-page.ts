// The status page (GET /status): one static HTML file shipped in the package
// (static/status.html), read once; it fetches /status.json itself.
import { readFileSync } from 'node:fs'

const PAGE = new URL('../../../../static/status.html', import.meta.url)
let page: string | undefined

export function statusPage (): string {
  page ??= readFileSync(PAGE, 'utf8')
  return page
}
