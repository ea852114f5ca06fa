import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { waitMembers } from './helpers/cluster.js'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'

interface Reply { status: number, headers: Headers, body: string }

async function get (port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: AbortSignal.timeout(5000) })
  return { status: res.status, headers: res.headers, body: await res.text() }
}

const basic = (key: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` })

/** exactly what a refused request gets */
async function assertRefused (port: number, path: string, headers: Record<string, string> = {}): Promise<void> {
  const r = await get(port, path, headers)
  assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`)
  assert.equal(r.body, 'Unauthorized\n')
  assert.equal(r.headers.get('www-authenticate'), 'Authorization realm="VerneMQ"')
  assert.equal(r.headers.get('content-type'), 'text/plain')
}

async function keysShown (node: TestNode, scope?: string): Promise<Array<Record<string, unknown>>> {
  const r = await node.admin(['api-key', 'show', ...(scope === undefined ? [] : [`scope=${scope}`]), '--format=json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout).table
}

describe('API keys and HTTP module auth', () => {
  let node: TestNode
  let port: number
  let openPort: number
  before(async () => {
    node = await startNode({
      conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0', 'http_module.vmq_metrics_http.auth.mode = apikey',
        'http_module.vmq_health_http.auth.mode = apikey', 'min_apikey_length = 12',
        'listener.http.open = 127.0.0.1:0', 'listener.http.open.http_module.vmq_metrics_http.auth.mode = noauth']
    })
    ;[port, openPort] = [node.port('http.default'), node.port('http.open')]
  })

  it('listener.http.NAME.http_module.MODULE.auth.mode overrides the module\'s mode on that listener only', async () => {
    assert.equal((await get(openPort, '/metrics')).status, 200)
    await assertRefused(openPort, '/health')
    await assertRefused(port, '/metrics')
  })
  after(async () => {
    await node.stop()
    node.cleanup()
  })

  it('apikey mode: no key, a wrong key, a key of another scope, a malformed header get exactly 401; a key of the scope gets the page', async () => {
    await assertRefused(port, '/metrics')
    await assertRefused(port, '/health')
    await assertRefused(port, '/health/ping')
    await assertRefused(port, '/health/listeners_full_cluster')
    const created = await node.admin(['api-key', 'create', 'scope=metrics'])
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /^[A-Za-z0-9]{32}\n$/)
    assert.equal(created.stderr, '')
    const key = created.stdout.trim()
    await assertRefused(port, '/metrics', { 'x-api-key': key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a') })
    await assertRefused(port, '/metrics', basic('nope-nope-nope'))
    await assertRefused(port, '/metrics', { authorization: `Bearer ${key}` })
    await assertRefused(port, '/health', { 'x-api-key': key })
    const viaHeader = await get(port, '/metrics', { 'x-api-key': key })
    assert.equal(viaHeader.status, 200)
    assert.match(viaHeader.body, /^# HELP vernemq_/m)
    assert.equal((await get(port, '/metrics', basic(key))).status, 200)
    // other methods too; unknown paths are 404 without a key
    const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(5000) })
    assert.deepEqual([post.status, await post.text()], [401, 'Unauthorized\n'])
    const postWithKey = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: 'x', headers: { 'x-api-key': key }, signal: AbortSignal.timeout(5000) })
    assert.deepEqual([postWithKey.status, await postWithKey.text()], [405, 'POST not allowed\n'])
    assert.equal((await get(port, '/nope')).status, 404)
  })

  it('add with an expiry, show lists scope and UTC expiry, an expired key is refused, delete takes a key away at once', async () => {
    const add = await node.admin(['api-key', 'add', 'key=health-key-0001', 'scope=health', 'expires=2031-06-01T12:00:00'])
    assert.equal(add.code, 0, add.stderr)
    assert.equal(add.stdout, 'Done\n')
    assert.equal((await get(port, '/health', { 'x-api-key': 'health-key-0001' })).status, 200)
    const expected = new Date(2031, 5, 1, 12, 0, 0).toISOString().slice(0, 19).replace('T', ' ')
    assert.deepEqual(await keysShown(node, 'health'), [{ Key: 'health-key-0001', Scope: 'health', 'Expires (UTC)': expected, 'has expired': false }])
    const table = await node.admin(['api-key', 'show', 'scope=health'])
    assert.match(table.stdout, /^\| Key +\| Scope +\| Expires \(UTC\) +\| has expired \|$/m)
    // a key that expires in two seconds works, then does not
    const soon = new Date(Date.now() + 2500)
    const pad = (n: number): string => String(n).padStart(2, '0')
    const local = `${soon.getFullYear()}-${pad(soon.getMonth() + 1)}-${pad(soon.getDate())}T${pad(soon.getHours())}:${pad(soon.getMinutes())}:${pad(soon.getSeconds())}`
    assert.equal((await node.admin(['api-key', 'add', 'key=short-lived-key', 'scope=health', `expires=${local}`])).code, 0)
    assert.equal((await get(port, '/health', { 'x-api-key': 'short-lived-key' })).status, 200)
    await new Promise(resolve => setTimeout(resolve, soon.getTime() - Date.now() + 50))
    await assertRefused(port, '/health', { 'x-api-key': 'short-lived-key' })
    assert.equal((await keysShown(node, 'health')).find(k => k.Key === 'short-lived-key')?.['has expired'], true)
    const del = await node.admin(['api-key', 'delete', 'key=health-key-0001', 'scope=health'])
    assert.equal(del.code, 0, del.stderr)
    assert.equal(del.stdout, 'Done\n')
    await assertRefused(port, '/health', { 'x-api-key': 'health-key-0001' })
    const again = await node.admin(['api-key', 'delete', 'key=health-key-0001', 'scope=health'])
    assert.deepEqual([again.code, again.stderr], [1, 'API key not found in scope health\n'])
  })

  it('refusals: short key (min_apikey_length), existing key, bad scope, bad or past expiry; none prints the key', async () => {
    const cases: Array<[string[], string]> = [
      [['key=short'], 'Invalid key length: an API key needs at least 12 characters (min_apikey_length)'],
      [['key=some-long-key-1', 'scope=root'], 'Invalid scope "root": expected one of status, mgmt, metrics, health, api2, httppub'],
      [['key=some-long-key-1', 'expires=tomorrow'], 'Invalid expiry date "tomorrow": expected yyyy-mm-ddThh:mm:ss (local time)'],
      [['key=some-long-key-1', 'expires=2031-02-30T00:00:00'], 'Invalid expiry date "2031-02-30T00:00:00": expected yyyy-mm-ddThh:mm:ss (local time)'],
      [['key=some-long-key-1', 'expires=2001-01-01T00:00:00'], 'Invalid expiry date: it is in the past']
    ]
    for (const [args, message] of cases) {
      const r = await node.admin(['api-key', 'add', ...args])
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `${message}\n`], args.join(' '))
    }
    assert.equal((await node.admin(['api-key', 'add', 'key=dup-key-000001'])).code, 0)
    const dup = await node.admin(['api-key', 'add', 'key=dup-key-000001'])
    assert.deepEqual([dup.code, dup.stderr], [1, 'The key already exists in scope mgmt\n'])
    // the same key in another scope is another key
    assert.equal((await node.admin(['api-key', 'add', 'key=dup-key-000001', 'scope=status'])).code, 0)
    const missing = await node.admin(['api-key', 'add'])
    assert.deepEqual([missing.code, missing.stderr], [1, 'You have to provide a key (key=<key>)\n'])
  })

  it('keys survive a restart (persistent_dir/api_keys.json, mode 0600)', async () => {
    assert.equal((await node.admin(['api-key', 'add', 'key=restart-key-01', 'scope=metrics'])).code, 0)
    const file = join(node.dir, 'data', 'api_keys.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.ok(readFileSync(file, 'utf8').includes('restart-key-01'))
    await node.stop()
    node = await restartNode(node)
    assert.equal((await get(port, '/metrics', { 'x-api-key': 'restart-key-01' })).status, 200)
    await assertRefused(port, '/metrics')
  })
})

describe('API keys in a cluster', () => {
  it('a key created on one member works on the other; delete reaches both; a member that was down is named and catches up when it returns; a new member gets the keys', async () => {
    const conf = [...OPEN_ACCESS, 'http_module.vmq_metrics_http.auth.mode = apikey']
    const n1 = await startNode({ conf: [...conf, 'listener.http.default = 127.0.0.1:0'] })
    let n2 = await startNode({ conf: [...conf, 'listener.http.default = 127.0.0.1:0', `discovery_node = ${n1.adminAddress}`] })
    const [p1, p2] = [n1.port('http.default'), n2.port('http.default')]
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
      const created = await n1.admin(['api-key', 'create', 'scope=metrics'])
      assert.equal(created.code, 0, created.stderr)
      const key = created.stdout.trim()
      assert.equal((await get(p2, '/metrics', { 'x-api-key': key })).status, 200)
      assert.deepEqual((await keysShown(n2)).map(k => k.Key), [key])
      assert.equal((await n2.admin(['api-key', 'delete', `key=${key}`, 'scope=metrics'])).code, 0)
      await assertRefused(p1, '/metrics', { 'x-api-key': key })
      await assertRefused(p2, '/metrics', { 'x-api-key': key })
      const older = await n1.admin(['api-key', 'add', 'key=deleted-while-away', 'scope=metrics'])
      assert.equal(older.code, 0, older.stderr)
      assert.equal((await get(p2, '/metrics', { 'x-api-key': 'deleted-while-away' })).status, 200)
      await n2.kill()
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: false }, 10000)
      const lonely = await n1.admin(['api-key', 'add', 'key=while-n2-is-down', 'scope=metrics'])
      assert.equal(lonely.code, 0, lonely.stderr)
      assert.equal(lonely.stdout, 'Done\n')
      assert.match(lonely.stderr, new RegExp(`^Warning: node ${n2.nodename.replace('.', '\\.')} is not running \\(.*\\): it gets the change when it is reachable again\\n$`))
      assert.ok(!lonely.stderr.includes('while-n2-is-down'))
      assert.equal((await n1.admin(['api-key', 'delete', 'key=deleted-while-away', 'scope=metrics'])).code, 0)
      // back: n2 catches up with both changes
      n2 = await restartNode(n2)
      await waitFor(async () => (await get(p2, '/metrics', { 'x-api-key': 'while-n2-is-down' })).status === 200, 15000, 'the key added while n2 was down works on n2')
      await assertRefused(p2, '/metrics', { 'x-api-key': 'deleted-while-away' })
      assert.deepEqual((await keysShown(n2)).map(k => k.Key), ['while-n2-is-down'])
      // a member joining later gets the keys too
      const n3 = await startNode({ conf: [...conf, `discovery_node = ${n1.adminAddress}`] })
      try {
        await waitFor(async () => (await keysShown(n3)).length === 1, 15000, 'the keys on a member that joined later')
        assert.deepEqual((await keysShown(n3)).map(k => k.Key), ['while-n2-is-down'])
      } finally {
        await n3.stop()
        n3.cleanup()
      }
    } finally {
      await n2.stop()
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})

describe('max_apikey_expiry_days', () => {
  it('with max_apikey_expiry_days = 10 a key needs an expiry date within 10 days', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'max_apikey_expiry_days = 10'] })
    const inDays = (days: number): string => {
      const d = new Date(Date.now() + days * 86_400_000)
      const pad = (n: number): string => String(n).padStart(2, '0')
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    }
    try {
      const refusal = 'Invalid expiry date: keys must expire within 10 days (max_apikey_expiry_days)\n'
      const never = await node.admin(['api-key', 'create'])
      assert.deepEqual([never.code, never.stdout, never.stderr], [1, '', refusal])
      const late = await node.admin(['api-key', 'add', 'key=late-key', `expires=${inDays(11)}`])
      assert.deepEqual([late.code, late.stderr], [1, refusal])
      const ok = await node.admin(['api-key', 'create', `expires=${inDays(9)}`])
      assert.equal(ok.code, 0, ok.stderr)
      assert.deepEqual((await keysShown(node)).map(k => [k.Key, k.Scope]), [[ok.stdout.trim(), 'mgmt']])
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
