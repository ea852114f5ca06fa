import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { collect, connackCode, connect, endAll, grantedCodes, type Received } from './helpers/mqtt.js'
import { startNode, waitFor, type TestNode } from './helpers/processes.js'
import { packetBytes, RawClient } from './helpers/raw.js'
import { WebhookServer, type HookCall, type Reply } from './helpers/webhook-server.js'

const OK = { json: { result: 'ok' } }

/** The answers of the endpoint, by client id (the tests pick what each client gets). */
function answer (call: HookCall): Reply {
  const id = String(call.body.client_id)
  if (call.hook.startsWith('auth_on_register')) {
    if (id.startsWith('refused')) return { json: { result: { error: 'not_allowed' } } }
    if (id.startsWith('next')) return { json: { result: 'next' } }
    if (id.startsWith('hang')) return 'hang'
    if (id.startsWith('broken')) return { status: 500, json: { result: 'ok' } }
    if (id.startsWith('notjson')) return { raw: 'ok' }
    if (id.startsWith('cached')) return { ...OK, headers: { 'cache-control': 'max-age=60' } }
    return OK
  }
  if (call.hook.startsWith('auth_on_publish')) {
    const topic = String(call.body.topic)
    if (topic === 'rewrite/me') return { json: { result: 'ok', modifiers: { topic: 'rewritten/topic', payload: Buffer.from('new payload').toString('base64'), retain: false } } }
    if (topic === 'forbidden') return { json: { result: { error: 'not_allowed' } } }
    if (topic === 'slow') return 'hang'
    if (topic === 'wildcard/rewrite') return { json: { result: 'ok', modifiers: { topic: 'a/#' } } }
    return OK
  }
  if (call.hook === 'auth_on_subscribe') {
    const topics = call.body.topics as Array<{ topic: string, qos: number }>
    if (topics.some(t => t.topic === 'forbidden/#')) return { json: { result: { error: 'not_allowed' } } }
    if (topics.some(t => t.topic === 'rewrite/#')) return { json: { result: 'ok', topics: topics.map(t => t.topic === 'rewrite/#' ? { topic: 'rewritten/#', qos: 1 } : { topic: t.topic, qos: 128 }) } }
    if (topics.some(t => t.topic === 'slow/#')) return 'hang'
    if (topics.some(t => t.topic === 'late/#')) return { ...OK, delayMs: 300 }
    return OK
  }
  if (call.hook === 'auth_on_subscribe_m5') {
    const topics = call.body.topics as Array<{ topic: string, qos: number }>
    if (topics.some(t => t.topic === 'rewrite/#')) return { json: { result: 'ok', modifiers: { topics: [{ topic: 'rewritten5/#', qos: 0 }] } } }
    if (topics.some(t => t.topic === 'refuse5/#')) return { json: { result: 'ok', modifiers: { topics: topics.map(t => ({ topic: t.topic, qos: t.topic === 'refuse5/#' ? 128 : 0 })) } } }
    if (topics.some(t => t.topic === 'forbidden5/#')) return { json: { result: { error: 'not_allowed' } } }
    return OK
  }
  return { json: {} }
}

describe('vmq_webhooks auth hooks', () => {
  let hooks: WebhookServer
  let node: TestNode
  let watcher: MqttClient
  let seen: Received[]
  let tenantPort: number

  before(async () => {
    hooks = await WebhookServer.start(answer)
    const conf = ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on']
    const names = ['auth_on_register', 'auth_on_publish', 'auth_on_subscribe', 'auth_on_register_m5', 'auth_on_publish_m5', 'auth_on_subscribe_m5']
    names.forEach((hook, i) => {
      conf.push(`vmq_webhooks.hook${i}.hook = ${hook}`, `vmq_webhooks.hook${i}.endpoint = ${hooks.url('/' + hook)}`, `vmq_webhooks.hook${i}.response_timeout = 1000`)
    })
    conf.push('listener.tcp.tenant = 127.0.0.1:0', 'listener.tcp.tenant.mountpoint = tenant1')
    node = await startNode({ conf })
    tenantPort = node.port('tcp.tenant')
    watcher = await connect(node.mqttUrl, { clientId: 'watcher', username: 'w', password: 'pw' })
    seen = collect(watcher)
    await watcher.subscribeAsync('#', { qos: 1 })
  })
  after(async () => {
    await endAll(watcher)
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  it('auth_on_register gets VerneMQ\'s body; ok accepts, {"error"}, next, 500 and non-JSON answers refuse with CONNACK 5', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'reg-ok', username: 'alice', password: 'secret', clean: false })
    const call = hooks.of('auth_on_register').find(x => x.body.client_id === 'reg-ok')
    assert.ok(call !== undefined)
    assert.equal(call.path, '/auth_on_register')
    assert.deepEqual(Object.keys(call.body), ['peer_addr', 'peer_port', 'mountpoint', 'client_id', 'username', 'password', 'clean_session'])
    assert.deepEqual(call.body, { peer_addr: '127.0.0.1', peer_port: (c.stream as unknown as { localPort: number }).localPort, mountpoint: '', client_id: 'reg-ok', username: 'alice', password: 'secret', clean_session: false })
    await endAll(c)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'refused-1', username: 'bob', password: 'x' }), 5)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'next-1', username: 'bob', password: 'x' }), 5)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'broken-1', username: 'bob', password: 'x' }), 5)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'notjson-1', username: 'bob', password: 'x' }), 5)
    assert.ok(node.stdout.includes('failed due to invalid_response_code 500'), node.stdout)
    assert.ok(node.stdout.includes('failed due to received_payload_not_json'), node.stdout)
  })

  it('a client of a listener with a mountpoint: the bodies carry it', async () => {
    const c = await connect(`mqtt://127.0.0.1:${tenantPort}`, { clientId: 'mp-1', username: 'm', password: 'p' })
    await c.subscribeAsync('mp/#', { qos: 0 })
    await c.publishAsync('mp/x', 'y', { qos: 1 })
    await endAll(c)
    assert.equal(hooks.of('auth_on_register').find(x => x.body.client_id === 'mp-1')?.body.mountpoint, 'tenant1')
    assert.equal(hooks.of('auth_on_subscribe').find(x => x.body.client_id === 'mp-1')?.body.mountpoint, 'tenant1')
    assert.deepEqual(hooks.of('auth_on_publish').find(x => x.body.client_id === 'mp-1')?.body,
      { username: 'm', mountpoint: 'tenant1', client_id: 'mp-1', qos: 1, topic: 'mp/x', payload: Buffer.from('y').toString('base64'), retain: false })
  })

  it('anonymous client: username and password are null', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'anon-1' })
    await endAll(c)
    const call = hooks.of('auth_on_register').find(x => x.body.client_id === 'anon-1')
    assert.equal(call?.body.username, null)
    assert.equal(call?.body.password, null)
  })

  it('an endpoint that does not answer refuses the client after response_timeout; others connect meanwhile', async () => {
    const started = Date.now()
    const hanging = connackCode(node.mqttUrl, { clientId: 'hang-1', username: 'h', password: 'h' })
    await waitFor(() => hooks.of('auth_on_register').some(c => c.body.client_id === 'hang-1'), 5000, 'the hanging call')
    const other = await connect(node.mqttUrl, { clientId: 'meanwhile', username: 'm', password: 'm' })
    assert.ok(Date.now() - started < 1000, 'the other client connected while the first waited')
    assert.equal(await hanging, 5)
    const waited = Date.now() - started
    assert.ok(waited >= 1000 && waited < 4000, `refused after ${waited} ms`)
    assert.ok(node.stdout.includes('for auth_on_register failed due to timeout'), node.stdout)
    await endAll(other)
  })

  it('MQTT 5: auth_on_register_m5 with clean_start and properties', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'reg5', username: 'carol', password: 'pw5', protocolVersion: 5, properties: { sessionExpiryInterval: 30, receiveMaximum: 10, userProperties: { site: 'north' } } })
    const call = hooks.of('auth_on_register_m5').find(x => x.body.client_id === 'reg5')
    assert.deepEqual(Object.keys(call?.body ?? {}), ['peer_addr', 'peer_port', 'mountpoint', 'client_id', 'username', 'password', 'clean_start', 'properties'])
    assert.deepEqual(call?.body, { peer_addr: '127.0.0.1', peer_port: (c.stream as unknown as { localPort: number }).localPort, mountpoint: '', client_id: 'reg5', username: 'carol', password: 'pw5', clean_start: true,
      properties: { p_session_expiry_interval: 30, p_receive_max: 10, p_user_property: [{ key: Buffer.from('site').toString('base64'), val: Buffer.from('north').toString('base64') }] }
    })
    await endAll(c)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'refused-5', username: 'x', password: 'x', protocolVersion: 5 }), 135)
  })

  it('cache-control: max-age caches a grant: the same login is not asked again', async () => {
    const login = { clientId: 'cached-1', username: 'dave', password: 'pw' }
    await endAll(await connect(node.mqttUrl, login))
    await endAll(await connect(node.mqttUrl, login))
    await endAll(await connect(node.mqttUrl, login))
    assert.equal(hooks.of('auth_on_register').filter(c => c.body.client_id === 'cached-1').length, 1)
    // another password is another key
    await endAll(await connect(node.mqttUrl, { ...login, password: 'other' }))
    assert.equal(hooks.of('auth_on_register').filter(c => c.body.client_id === 'cached-1').length, 2)
  })

  it('auth_on_publish: VerneMQ\'s body (payload base64); topic, payload and retain modifiers rewrite the message', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'pub-1', username: 'eve', password: 'pw' })
    await c.publishAsync('plain/topic', 'hello', { qos: 1, retain: false })
    const call = hooks.of('auth_on_publish').find(x => x.body.topic === 'plain/topic')
    assert.deepEqual(Object.keys(call?.body ?? {}), ['username', 'mountpoint', 'client_id', 'qos', 'topic', 'payload', 'retain'])
    assert.deepEqual(call?.body, { username: 'eve', mountpoint: '', client_id: 'pub-1', qos: 1, topic: 'plain/topic', payload: Buffer.from('hello').toString('base64'), retain: false })
    await c.publishAsync('rewrite/me', 'old payload', { qos: 1, retain: true })
    await waitFor(() => seen.some(m => m.topic === 'rewritten/topic'), 5000, 'the rewritten message')
    assert.deepEqual(seen.find(m => m.topic === 'rewritten/topic'), { topic: 'rewritten/topic', payload: 'new payload', qos: 1, retain: false })
    assert.ok(!seen.some(m => m.topic === 'rewrite/me'))
    await endAll(c)
  })

  it('auth_on_publish refusals: {"error"}, an endpoint that does not answer, a wildcard topic modifier; the client keeps publishing meanwhile', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'pub-5', username: 'eve', password: 'pw', protocolVersion: 5 })
    await assert.rejects(c.publishAsync('forbidden', 'x', { qos: 1, properties: { responseTopic: 'reply/here', correlationData: Buffer.from('c-1'), messageExpiryInterval: 60 } }), /135|Not authorized/i)
    const call = hooks.of('auth_on_publish_m5').find(x => x.body.topic === 'forbidden')
    assert.deepEqual(call?.body, {
      username: 'eve', mountpoint: '', client_id: 'pub-5', qos: 1, topic: 'forbidden', payload: Buffer.from('x').toString('base64'), retain: false,
      properties: { p_message_expiry_interval: 60, p_response_topic: 'reply/here', p_correlation_data: 'c-1' }
    })
    const slow = c.publishAsync('slow', 'x', { qos: 1 }).then(() => 'acked', (err: Error) => err.message)
    await c.publishAsync('fine/after/slow', 'y', { qos: 1 })
    await waitFor(() => seen.some(m => m.topic === 'fine/after/slow'), 5000, 'the message published after the slow one')
    assert.match(await slow, /135|Not authorized/i)
    await assert.rejects(c.publishAsync('wildcard/rewrite', 'x', { qos: 1 }), /135|Not authorized/i)
    await c.publishAsync('marker/pub5', 'm', { qos: 1 })
    await waitFor(() => seen.some(m => m.topic === 'marker/pub5'), 5000, 'the marker')
    assert.ok(!seen.some(m => ['forbidden', 'slow', 'a/#'].includes(m.topic)))
    await endAll(c)
  })

  it('auth_on_subscribe: one call per SUBSCRIBE with every filter; topics rewrite the filters, qos 128 refuses one, {"error"} refuses all', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'sub-1', username: 'sue', password: 'pw' })
    assert.deepEqual(await grantedCodes(c, { 'a/b': { qos: 1 }, 'c/d': { qos: 2 } }), [1, 2])
    const call = hooks.of('auth_on_subscribe').find(x => x.body.client_id === 'sub-1')
    assert.deepEqual(call?.body, { username: 'sue', mountpoint: '', client_id: 'sub-1', topics: [{ topic: 'a/b', qos: 1 }, { topic: 'c/d', qos: 2 }] })
    assert.equal(hooks.of('auth_on_subscribe').filter(x => x.body.client_id === 'sub-1').length, 1)
    // aedes fixes the SUBACK code before authorization: it shows the QoS asked; the subscription has the rewritten one
    assert.deepEqual(await grantedCodes(c, { 'rewrite/#': { qos: 0 }, 'other/#': { qos: 0 } }), [0, 128])
    const got = collect(c)
    await watcher.publishAsync('rewritten/x', 'r', { qos: 1 })
    await watcher.publishAsync('rewrite/x', 'not subscribed', { qos: 1 })
    await watcher.publishAsync('other/x', 'not subscribed', { qos: 1 })
    await waitFor(() => got.some(m => m.topic === 'rewritten/x'), 5000, 'a message on the rewritten filter')
    assert.deepEqual(await grantedCodes(c, { 'forbidden/#': { qos: 0 }, 'ok/#': { qos: 0 } }), [128, 128])
    await watcher.publishAsync('a/b', 'marker', { qos: 1 })
    await waitFor(() => got.some(m => m.topic === 'a/b'), 5000, 'the marker')
    assert.deepEqual(got.filter(m => m.topic !== 'a/b'), [{ topic: 'rewritten/x', payload: 'r', qos: 1, retain: false }])
    await endAll(c)
  })

  it('auth_on_subscribe timeout refuses the SUBSCRIBE; auth_on_subscribe_m5 rewrites from modifiers.topics', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'sub-2', username: 'sue', password: 'pw' })
    assert.deepEqual(await grantedCodes(c, { 'slow/#': { qos: 0 } }), [128])
    await endAll(c)
    const c5 = await connect(node.mqttUrl, { clientId: 'sub-5', username: 'sue', password: 'pw', protocolVersion: 5 })
    assert.deepEqual(await grantedCodes(c5, { 'rewrite/#': { qos: 1 } }), [1])
    const got = collect(c5)
    await watcher.publishAsync('rewritten5/x', 'r5', { qos: 1 })
    await waitFor(() => got.length > 0, 5000, 'a message on the rewritten filter')
    assert.deepEqual(got, [{ topic: 'rewritten5/x', payload: 'r5', qos: 0, retain: false }])
    const call = hooks.of('auth_on_subscribe_m5').find(x => x.body.client_id === 'sub-5')
    assert.deepEqual(call?.body, { username: 'sue', mountpoint: '', client_id: 'sub-5', topics: [{ topic: 'rewrite/#', qos: 1 }], properties: {} })
    // as VerneMQ: QoS 128 in a plugin's topics is SUBACK 0x80 for that filter, a refused SUBSCRIBE 0x87 for all
    assert.deepEqual(await grantedCodes(c5, { 'refuse5/#': { qos: 1 }, 'fine5/#': { qos: 1 } }), [0x80, 1])
    assert.deepEqual(await grantedCodes(c5, { 'forbidden5/#': { qos: 1 } }), [0x87])
    await endAll(c5)
  })

  it('packets after a SUBSCRIBE the endpoint is still authorizing wait for it: a PUBLISH sent with it reaches the new subscription', async () => {
    const subscribe = { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'late/#', qos: 1 }] }
    const publish = (messageId: number, payload: string): object => ({ cmd: 'publish', messageId, qos: 1, topic: 'late/a', payload: Buffer.from(payload), retain: false, dup: false })
    const seenBy = (raw: RawClient): string[] => raw.packets.map(p => p.cmd === 'publish' ? `publish ${String(p.payload)}` : `${p.cmd} ${String((p as { messageId?: number }).messageId)}`)
    const raw = await RawClient.open(node.mqttPort, 'in-order')
    await raw.next('connack')
    raw.sendBytes(packetBytes([subscribe, publish(2, 'after the subscribe'), { cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['late/#'] }, publish(4, 'after the unsubscribe'), { cmd: 'pingreq' }]))
    // PINGREQ and the last PUBLISH go on together (neither is a SUBSCRIBE or UNSUBSCRIBE): the PINGRESP may come first
    await raw.waitCount('puback', 2)
    await raw.next('pingresp')
    assert.deepEqual(seenBy(raw), ['suback 1', 'puback 2', 'publish after the subscribe', 'unsuback 3', 'puback 4'])
    raw.socket.destroy()

    // sent with the CONNECT: they wait for the CONNACK, then for the SUBSCRIBE
    const connect = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'in-order-2', keepalive: 60 }
    const early = await RawClient.openWithBytes(node.mqttPort, packetBytes([connect, subscribe, publish(2, 'with the connect'), { cmd: 'pingreq' }]))
    await early.waitCount('publish', 1)
    await early.next('pingresp')
    assert.deepEqual(seenBy(early), ['connack undefined', 'suback 1', 'puback 2', 'publish with the connect'])
    early.socket.destroy()
  })
  it('a client that sends SUBSCRIBE, PUBLISH and DISCONNECT and closes while the endpoint authorizes: its message is published, its will is not', async () => {
    const raw = await RawClient.open(node.mqttPort, 'leaves-at-once', { will: { topic: 'will/leaver', payload: Buffer.from('gone'), qos: 0, retain: false } })
    await raw.next('connack')
    raw.sendBytes(packetBytes([{ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'late/#', qos: 0 }] },
      { cmd: 'publish', qos: 0, topic: 'late/leaving', payload: Buffer.from('last words'), retain: false, dup: false }, { cmd: 'disconnect' }]))
    raw.socket.end()
    await waitFor(() => seen.some(m => m.topic === 'late/leaving'), 5000, 'the message sent before the DISCONNECT')
    await watcher.publishAsync('marker/leaver', 'm', { qos: 1 })
    await waitFor(() => seen.some(m => m.topic === 'marker/leaver'), 5000, 'the marker')
    assert.deepEqual(seen.filter(m => m.topic.startsWith('will/')), [])
  })
})

describe('vmq_webhooks: a slow auth_on_subscribe', () => {
  let hooks: WebhookServer
  let node: TestNode
  before(async () => {
    hooks = await WebhookServer.start(call => call.hook === 'auth_on_subscribe' ? { ...OK, delayMs: 2500 } : OK)
    node = await startNode({
      conf: ['allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on', 'vmq_webhooks.sub.hook = auth_on_subscribe',
        `vmq_webhooks.sub.endpoint = ${hooks.url('/sub')}`, 'vmq_webhooks.sub.response_timeout = 5000']
    })
  })
  after(async () => {
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  it('a client that goes on sending while its SUBSCRIBE waits longer than 1.5 keepalives stays connected', async () => {
    const raw = await RawClient.open(node.mqttPort, 'pinging', { keepalive: 1 })
    assert.equal((await raw.next('connack') as { returnCode?: number }).returnCode, 0)
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 0 }] })
    for (let i = 0; i < 6; i++) {
      await new Promise(resolve => setTimeout(resolve, 400))
      raw.send({ cmd: 'pingreq' })
    }
    await raw.next('suback')
    await raw.waitCount('pingresp', 6)
    assert.equal(raw.closed, false)
    raw.socket.destroy()
  })
})
