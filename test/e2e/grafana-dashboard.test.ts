import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, REPO, startNode, type TestNode } from './helpers/processes.js'
import { freePort } from './helpers/free-port.js'

const DASHBOARD = join(REPO, 'docs', 'grafana-dashboard.json')
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset'])

/** The metric names a PromQL expression reads (label matchers, ranges, grouping labels and functions left out). */
function metricNames (expr: string): string[] {
  const bare = expr
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)/g, '$1')
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\$\w+/g, '')
  const names: string[] = []
  for (const m of bare.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const rest = bare.slice((m.index ?? 0) + m[0].length)
    if (/^\s*\(/.test(rest) || KEYWORDS.has(m[0])) continue
    names.push(m[0])
  }
  return names
}

/** Every PromQL expression of a dashboard: panel targets and query variables. */
function expressions (value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) expressions(v, found)
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if ((key === 'expr' || key === 'definition') && typeof v === 'string') found.push(v)
      else expressions(v, found)
    }
  }
  return found
}

describe('docs/grafana-dashboard.json', () => {
  let node: TestNode
  let httpPort: number
  before(async () => {
    // a bridge to a port nothing listens on: its metrics have samples
    node = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0', 'plugins.vmq_bridge = on', `vmq_bridge.tcp.dash = 127.0.0.1:${await freePort()}`] })
    httpPort = node.port('http.default')
  })
  after(async () => {
    await node.stop()
    node.cleanup()
  })

  it('reads metric names out of PromQL', () => {
    assert.deepEqual(metricNames('sum by (node, mqtt_version) (rate(vernemq_a{node=~"$node",x="a{b}"}[$__rate_interval])) / on (node) vernemq_b'), ['vernemq_a', 'vernemq_b'])
    assert.deepEqual(metricNames('label_values(vernemq_socket_open, node)'), ['vernemq_socket_open'])
  })

  it('every metric its queries use is on a running node\'s /metrics, and it shows every broker metric', async () => {
    const client = await connect(node.mqttUrl)
    await client.publishAsync('dash/t', 'x', { qos: 1 })
    await endAll(client)
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5000) })
    assert.equal(res.status, 200)
    const exposed = new Set((await res.text()).split('\n').filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(/[{ ]/)[0]))
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as unknown
    const exprs = expressions(dashboard)
    assert.ok(exprs.length >= 20, `${exprs.length} queries`)
    const used = new Set(exprs.flatMap(metricNames))
    assert.deepEqual([...used].filter(name => !exposed.has(name)), [], 'dashboard metrics missing from /metrics')
    // a family of metrics with a free part in their names (webhooks_<hook>_requests) is shown by a __name__ matcher
    const families = exprs.flatMap(e => [...e.matchAll(/__name__=~"([^"]+)"/g)].map(m => new RegExp(`^(?:${m[1]})$`)))
    const shown = (name: string): boolean => used.has(name) || families.some(family => family.test(name))
    const broker = [...exposed].filter(name => !name.startsWith('vernemq_process_') && !name.startsWith('vernemq_nodejs_'))
    assert.deepEqual(broker.filter(name => !shown(name)), [], 'broker metrics not on the dashboard')
    assert.ok(broker.some(name => /^vernemq_webhooks_auth_on_register_requests$/.test(name) && shown(name)), 'the webhooks family is shown')
  })
})
