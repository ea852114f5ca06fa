import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { connect, endAll } from './helpers/mqtt.js'
import { startNode, waitFor, type TestNode } from './helpers/processes.js'
import { WebhookServer, type HookCall } from './helpers/webhook-server.js'

const EVENTS = ['on_register', 'on_publish', 'on_subscribe', 'on_unsubscribe', 'on_deliver', 'on_client_wakeup', 'on_client_offline', 'on_client_gone',
  'on_register_m5', 'on_publish_m5', 'on_subscribe_m5', 'on_unsubscribe_m5', 'on_deliver_m5', 'on_offline_message', 'on_session_expired']

function localPort (c: MqttClient): number {
  return (c.stream as unknown as { localPort: number }).localPort
}

describe('vmq_webhooks notifications (on_* hooks)', () => {
  let hooks: WebhookServer
  let node: TestNode

  before(async () => {
    hooks = await WebhookServer.start(call => call.hook === 'on_publish' && String(call.body.topic).startsWith('hang/') ? 'hang' : { json: {} })
    const conf = ['allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on']
    EVENTS.forEach((hook, i) => {
      conf.push(`vmq_webhooks.ev${String(i).padStart(2, '0')}.hook = ${hook}`, `vmq_webhooks.ev${String(i).padStart(2, '0')}.endpoint = ${hooks.url('/' + hook)}`)
    })
    conf.push('vmq_webhooks.plain.hook = on_publish', `vmq_webhooks.plain.endpoint = ${hooks.url('/plain')}`, 'vmq_webhooks.plain.base64encode = off', 'vmq_webhooks.plain.response_timeout = 3000')
    node = await startNode({ conf })
  })
  after(async () => {
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  /** The one call of `hook` about `clientId` (waits for it). */
  async function callOf (hook: string, clientId: string, path = '/' + hook, more: (c: HookCall) => boolean = () => true): Promise<HookCall> {
    const find = (): HookCall[] => hooks.calls.filter(c => c.hook === hook && c.path === path && c.body.client_id === clientId && more(c))
    await waitFor(() => find().length > 0, 5000, `${hook} for ${clientId}`)
    assert.equal(find().length, 1, `${hook} for ${clientId} once`)
    return find()[0]
  }

  it('MQTT 3.1.1: on_register, on_client_wakeup, on_subscribe, on_publish (base64 and plain), on_deliver, on_unsubscribe, on_client_gone with VerneMQ\'s bodies', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'ev1', username: 'ursula' })
    const register = await callOf('on_register', 'ev1')
    assert.deepEqual(Object.keys(register.body), ['peer_addr', 'peer_port', 'mountpoint', 'client_id', 'username'])
    assert.deepEqual(register.body, { peer_addr: '127.0.0.1', peer_port: localPort(c), mountpoint: '', client_id: 'ev1', username: 'ursula' })
    assert.deepEqual((await callOf('on_client_wakeup', 'ev1')).body, { mountpoint: '', client_id: 'ev1' })

    await c.subscribeAsync({ 'a/+': { qos: 1 }, 'b/#': { qos: 0 } })
    const sub = await callOf('on_subscribe', 'ev1')
    assert.deepEqual(Object.keys(sub.body), ['username', 'mountpoint', 'client_id', 'topics'])
    assert.deepEqual(sub.body, { username: 'ursula', mountpoint: '', client_id: 'ev1', topics: [{ topic: 'a/+', qos: 1 }, { topic: 'b/#', qos: 0 }] })

    await c.publishAsync('a/b', 'hello', { qos: 1, retain: false })
    const pub = await callOf('on_publish', 'ev1')
    assert.deepEqual(Object.keys(pub.body), ['username', 'mountpoint', 'client_id', 'qos', 'topic', 'payload', 'retain'])
    assert.deepEqual(pub.body, { username: 'ursula', mountpoint: '', client_id: 'ev1', qos: 1, topic: 'a/b', payload: Buffer.from('hello').toString('base64'), retain: false })
    assert.deepEqual((await callOf('on_publish', 'ev1', '/plain')).body, { username: 'ursula', mountpoint: '', client_id: 'ev1', qos: 1, topic: 'a/b', payload: 'hello', retain: false })
    const deliver = await callOf('on_deliver', 'ev1')
    assert.deepEqual(Object.keys(deliver.body), ['username', 'mountpoint', 'client_id', 'qos', 'topic', 'payload', 'retain', 'properties'])
    assert.deepEqual(deliver.body, { username: 'ursula', mountpoint: '', client_id: 'ev1', qos: 1, topic: 'a/b', payload: Buffer.from('hello').toString('base64'), retain: false, properties: {} })

    await c.unsubscribeAsync(['a/+', 'b/#'])
    const unsub = await callOf('on_unsubscribe', 'ev1')
    assert.deepEqual(unsub.body, { username: 'ursula', mountpoint: '', client_id: 'ev1', topics: ['a/+', 'b/#'] })

    await endAll(c)
    assert.deepEqual((await callOf('on_client_gone', 'ev1')).body, { mountpoint: '', client_id: 'ev1' })
    assert.equal(hooks.of('on_client_offline').filter(x => x.body.client_id === 'ev1').length, 0)
  })

  it('a persistent session going away is on_client_offline; anonymous username is null', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'ev2', clean: false })
    assert.equal((await callOf('on_register', 'ev2')).body.username, null)
    await endAll(c)
    assert.deepEqual((await callOf('on_client_offline', 'ev2')).body, { mountpoint: '', client_id: 'ev2' })
    assert.equal(hooks.of('on_client_gone').filter(x => x.body.client_id === 'ev2').length, 0)
  })

  it('MQTT 5: the _m5 hooks, with properties', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'ev5', username: 'vic', protocolVersion: 5 })
    assert.deepEqual((await callOf('on_register_m5', 'ev5')).body, { peer_addr: '127.0.0.1', peer_port: localPort(c), mountpoint: '', client_id: 'ev5', username: 'vic', properties: {} })
    await c.subscribeAsync('x/#', { qos: 2 })
    assert.deepEqual((await callOf('on_subscribe_m5', 'ev5')).body, { username: 'vic', mountpoint: '', client_id: 'ev5', topics: [{ topic: 'x/#', qos: 2 }], properties: {} })
    await c.publishAsync('x/y', 'p5', { qos: 0, retain: true, properties: { contentType: 'text/plain', payloadFormatIndicator: true, userProperties: { k: 'v' } } })
    const properties = { p_payload_format_indicator: 'utf8', p_content_type: 'text/plain', p_user_property: [{ key: Buffer.from('k').toString('base64'), val: Buffer.from('v').toString('base64') }] }
    assert.deepEqual((await callOf('on_publish_m5', 'ev5')).body, { username: 'vic', mountpoint: '', client_id: 'ev5', qos: 0, topic: 'x/y', payload: Buffer.from('p5').toString('base64'), retain: true, properties })
    assert.deepEqual((await callOf('on_deliver_m5', 'ev5')).body, { username: 'vic', mountpoint: '', client_id: 'ev5', qos: 0, topic: 'x/y', payload: Buffer.from('p5').toString('base64'), retain: false, properties })
    await c.unsubscribeAsync('x/#')
    assert.deepEqual((await callOf('on_unsubscribe_m5', 'ev5')).body, { username: 'vic', mountpoint: '', client_id: 'ev5', topics: ['x/#'], properties: {} })
    await c.publishAsync('x/y', '', { qos: 0, retain: true })
    await endAll(c)
    assert.equal(hooks.of('on_register').filter(x => x.body.client_id === 'ev5').length, 0)
  })

  it('an endpoint that does not answer holds up nobody (clients, other endpoints); beyond its queue notifications are dropped and logged once', async () => {
    const publisher = await connect(node.mqttUrl, { clientId: 'flood' })
    const reader = await connect(node.mqttUrl, { clientId: 'reader' })
    await reader.subscribeAsync('hang/#', { qos: 0 })
    let got = 0
    reader.on('message', () => { got++ })
    const total = 10_200
    for (let i = 0; i < total; i++) publisher.publish(`hang/${i}`, 'x', { qos: 0 })
    await publisher.publishAsync('hang/last', 'x', { qos: 1 })
    await waitFor(() => got === total + 1, 20_000, `all ${total + 1} messages delivered (got ${got})`)
    await waitFor(() => node.stdout.includes('webhook notifications dropped'), 5000, 'the drop warning')
    // the other endpoints are told at once: on_deliver of the last message, on_client_gone
    await callOf('on_deliver', 'reader', '/on_deliver', c => c.body.topic === 'hang/last')
    await endAll(publisher, reader)
    await callOf('on_client_gone', 'reader')
    // (the fast endpoints may drop some of the burst too, each logging its own line)
    const drops = node.stdout.split('\n').filter(l => l.includes(`${hooks.url('/on_publish')}: webhook notifications dropped`))
    assert.equal(drops.length, 1)
    assert.match(drops[0], /webhook notifications dropped: 32 calls running and 10000 waiting \(endpoints too slow\)/)
  })

  it('on_offline_message for a message queued for an offline session, on_session_expired when persistent_client_expiration deletes it', async () => {
    const sleeper = await connect(node.mqttUrl, { clientId: 'off1', clean: false })
    await sleeper.subscribeAsync('off/#', { qos: 1 })
    await endAll(sleeper)
    await callOf('on_client_offline', 'off1')
    const publisher = await connect(node.mqttUrl, { clientId: 'offpub' })
    await publisher.publishAsync('off/1', 'queued', { qos: 1 })
    const queued = await callOf('on_offline_message', 'off1')
    assert.deepEqual(Object.keys(queued.body), ['mountpoint', 'client_id', 'qos', 'topic', 'payload', 'retain'])
    assert.deepEqual(queued.body, { mountpoint: '', client_id: 'off1', qos: 1, topic: 'off/1', payload: Buffer.from('queued').toString('base64'), retain: false })
    assert.equal(hooks.of('on_offline_message').filter(c => c.body.client_id === 'offpub').length, 0)
    await endAll(publisher)
    const set = await node.admin(['set', 'persistent_client_expiration=1s'])
    assert.equal(set.code, 0, set.stderr)
    assert.deepEqual((await callOf('on_session_expired', 'off1')).body, { mountpoint: '', client_id: 'off1' })
    assert.equal((await node.admin(['set', 'persistent_client_expiration=never'])).code, 0)
  })
})
