import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connackCode, connect, endAll } from './helpers/mqtt.js'
import { startNode, waitFor, type TestNode } from './helpers/processes.js'
import { WebhookServer } from './helpers/webhook-server.js'

async function ok (node: TestNode, args: string[]): Promise<string> {
  const r = await node.admin(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

async function fails (node: TestNode, args: string[], expected: RegExp): Promise<void> {
  const r = await node.admin(args)
  assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`)
  assert.match(r.stderr, expected)
}

describe('vmq-admin webhooks', () => {
  let hooks: WebhookServer
  let node: TestNode
  let httpPort: number

  before(async () => {
    hooks = await WebhookServer.start(call => {
      if (call.path === '/deny') return { json: { result: { error: 'nope' } } }
      if (call.path === '/cached') return { json: { result: 'ok' }, headers: { 'cache-control': 'max-age=300' } }
      if (call.path === '/pub') return { json: {} }
      return { json: { result: 'ok' } }
    })
    node = await startNode({
      conf: ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on',
        'vmq_webhooks.conf1.hook = auth_on_register', `vmq_webhooks.conf1.endpoint = ${hooks.url('/cached')}`, 'vmq_webhooks.conf1.response_timeout = 2000',
        'listener.http.metrics = 127.0.0.1:0']
    })
    httpPort = node.port('http.metrics')
  })
  after(async () => {
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  it('show lists the configured webhook; register adds one (JSON and table), deregister removes it', async () => {
    assert.deepEqual(JSON.parse(await ok(node, ['webhooks', 'show', '--format=json'])), {
      type: 'table', table: [{ hook: 'auth_on_register', endpoint: hooks.url('/cached'), base64payload: true, response_timeout: 2000 }]
    })
    assert.equal(await ok(node, ['webhooks', 'register', 'hook=on_publish', `endpoint=${hooks.url('/pub')}`, '--base64payload=false']), 'Done\n')
    assert.deepEqual(JSON.parse(await ok(node, ['webhooks', 'show', '--format=json'])).table, [
      { hook: 'auth_on_register', endpoint: hooks.url('/cached'), base64payload: true, response_timeout: 2000 },
      { hook: 'on_publish', endpoint: hooks.url('/pub'), base64payload: false, response_timeout: 5000 }
    ])
    const human = await ok(node, ['webhooks', 'show'])
    assert.match(human, /hook +\| endpoint +\| base64payload \| response_timeout/)
    assert.match(human, new RegExp(`^\\| on_publish +\\| ${hooks.url('/pub').replaceAll('/', '\\/')} +\\| false +\\| 5000 +\\|$`, 'm'))

    const c = await connect(node.mqttUrl, { clientId: 'adm-1', username: 'u', password: 'p' })
    await c.publishAsync('t/1', 'plain text', { qos: 1 })
    await waitFor(() => hooks.calls.some(x => x.path === '/pub'), 5000, 'the on_publish call')
    assert.equal(hooks.calls.find(x => x.path === '/pub')?.body.payload, 'plain text')
    await endAll(c)

    assert.equal(await ok(node, ['webhooks', 'deregister', 'hook=on_publish', `endpoint=${hooks.url('/pub')}`]), 'Done\n')
    assert.equal(JSON.parse(await ok(node, ['webhooks', 'show', '--format=json'])).table.length, 1)
  })

  it('a registered auth_on_register endpoint that refuses refuses the client; with no endpoint left the chain refuses', async () => {
    await ok(node, ['webhooks', 'deregister', 'hook=auth_on_register', `endpoint=${hooks.url('/cached')}`])
    await ok(node, ['webhooks', 'register', 'hook=auth_on_register', `endpoint=${hooks.url('/deny')}`])
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'adm-2', username: 'u', password: 'p' }), 5)
    await ok(node, ['webhooks', 'deregister', 'hook=auth_on_register', `endpoint=${hooks.url('/deny')}`])
    // no auth_on_register endpoint left: every plugin says next, the client is refused
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'adm-3', username: 'u', password: 'p' }), 5)
    await ok(node, ['webhooks', 'register', 'hook=auth_on_register', `endpoint=${hooks.url('/cached')}`, '--response_timeout=2000'])
  })

  it('cache show counts misses, hits and entries per endpoint and hook; --reset and cache clear', async () => {
    await ok(node, ['webhooks', 'cache', 'clear'])
    const login = { clientId: 'adm-c', username: 'cu', password: 'cp' }
    await endAll(await connect(node.mqttUrl, login))
    await endAll(await connect(node.mqttUrl, login))
    await endAll(await connect(node.mqttUrl, login))
    const endpoint = hooks.url('/cached')
    assert.deepEqual(JSON.parse(await ok(node, ['webhooks', 'cache', 'show', '--format=json'])).table, [
      { stat: 'entries', endpoint, hook: 'auth_on_register', value: 1 },
      { stat: 'hits', endpoint, hook: 'auth_on_register', value: 2 },
      { stat: 'misses', endpoint, hook: 'auth_on_register', value: 1 }
    ])
    assert.equal(await ok(node, ['webhooks', 'cache', 'show', '--reset']), 'Done\n')
    assert.deepEqual(JSON.parse(await ok(node, ['webhooks', 'cache', 'show', '--format=json'])).table, [
      { stat: 'entries', endpoint, hook: 'auth_on_register', value: 1 }
    ])
    assert.equal(await ok(node, ['webhooks', 'cache', 'clear']), 'Done\n')
    assert.equal(await ok(node, ['webhooks', 'cache', 'show']), '')
    const calls = hooks.calls.filter(c => c.body.client_id === 'adm-c').length
    await endAll(await connect(node.mqttUrl, login))
    assert.equal(hooks.calls.filter(c => c.body.client_id === 'adm-c').length, calls + 1)
  })

  it('vmq-admin set vmq_webhooks.pool_max_connections / pool_timeout: calls go on with the new pools', async () => {
    assert.equal(await ok(node, ['set', 'vmq_webhooks.pool_max_connections=1', 'vmq_webhooks.pool_timeout=1000']), '')
    assert.deepEqual(JSON.parse(await ok(node, ['show', 'vmq_webhooks.pool_max_connections', 'vmq_webhooks.pool_timeout', '--format=json'])).table,
      [{ node: node.nodename, 'vmq_webhooks.pool_max_connections': '1', 'vmq_webhooks.pool_timeout': '1000' }])
    const logins = ['p1', 'p2', 'p3'].map(async id => await connect(node.mqttUrl, { clientId: id, username: id, password: 'x' }))
    await endAll(...await Promise.all(logins))
  })

  it('GET /metrics: webhooks_<hook>_requests, _errors, _bytes_sent as VerneMQ names them, and the dropped notifications', async () => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
    const value = (name: string): number => {
      const line = text.split('\n').find(l => l.startsWith(`vernemq_${name}{`))
      assert.ok(line !== undefined, `${name} in /metrics`)
      return Number(line.split(' ').at(-1))
    }
    const calls = hooks.calls.filter(c => c.hook === 'auth_on_register')
    assert.equal(value('webhooks_auth_on_register_requests'), calls.length)
    assert.equal(value('webhooks_auth_on_register_errors'), calls.filter(c => c.path === '/deny').length)
    assert.ok(value('webhooks_auth_on_register_bytes_sent') > calls.length * 100)
    assert.equal(value('webhooks_on_publish_requests'), hooks.calls.filter(c => c.hook === 'on_publish').length)
    assert.equal(value('webhooks_on_auth_m5_requests'), 0)
    assert.equal(value('webhooks_notifications_dropped'), 0)
    assert.match(text, /^# HELP vernemq_webhooks_on_deliver_errors Number of errors calling on_deliver webhooks/m)
  })

  it('errors: already registered, not found, unknown hook, bad endpoint, missing arguments, plugin disabled — exit 1', async () => {
    await fails(node, ['webhooks', 'register', 'hook=auth_on_register', `endpoint=${hooks.url('/cached')}`], /^can't register endpoint due to 'already_registered'\n$/)
    await fails(node, ['webhooks', 'deregister', 'hook=on_publish', 'endpoint=http://127.0.0.1:1/none'], /^can't deregister endpoint due to 'not_found'\n$/)
    await fails(node, ['webhooks', 'register', 'hook=on_nothing', 'endpoint=http://127.0.0.1:1/'], /^Invalid value "on_nothing" for hook: expected one of auth_on_register, auth_on_publish/)
    await fails(node, ['webhooks', 'register', 'hook=on_publish', 'endpoint=ftp://x/'], /^invalid endpoint "ftp:\/\/x\/", expected an http:\/\/ or https:\/\/ URL\n$/)
    await fails(node, ['webhooks', 'register', 'hook=on_publish'], /^Usage: vmq-admin webhooks register hook=<Hook> endpoint=<Url>/)
    await ok(node, ['plugin', 'disable', '-n', 'vmq_webhooks'])
    await fails(node, ['webhooks', 'show'], /^vmq_webhooks is not enabled \(plugins.vmq_webhooks = on, or vmq-admin plugin enable -n vmq_webhooks\)\n$/)
    await ok(node, ['plugin', 'enable', '-n', 'vmq_webhooks'])
    // enabled again: the configured webhooks, not the runtime ones
    assert.deepEqual(JSON.parse(await ok(node, ['webhooks', 'show', '--format=json'])).table, [
      { hook: 'auth_on_register', endpoint: hooks.url('/cached'), base64payload: true, response_timeout: 2000 }
    ])
  })
})
