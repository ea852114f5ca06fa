// auth_on_register(_m5) modifiers: per-client settings the endpoint gives at
// CONNECT, seen from the clients (raw ones show every packet the node sends).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, Packet } from 'mqtt-packet'
import { collect, connackCode, connect, endAll, grantedQos, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'
import { RawClient } from './helpers/raw.js'
import { RawClient5 } from './helpers/raw5.js'
import { WebhookServer, type HookCall, type Reply } from './helpers/webhook-server.js'

/** What auth_on_register(_m5) answers, by client id. */
const MODIFIERS: Record<string, Record<string, unknown>> = {
  'small-msgs': { max_message_size: 10 },
  'small-msgs5': { max_message_size: 10 },
  'one-inflight': { max_inflight_messages: 1 },
  'short-queue': { max_inflight_messages: 1, max_online_messages: 1 },
  'offline-two': { max_offline_messages: 2 },
  'fast-retry': { retry_interval: 300 },
  upgrader: { upgrade_qos: true },
  'slow-pub': { max_message_rate: 2 },
  renamed: { username: 'new-name' },
  'short-life': { max_connection_lifetime: 1 },
  'short-life5': { max_connection_lifetime: 1 },
  'no-effect': { allow_unsubscribe: false, max_drain_time: 10, max_msgs_per_drain_step: 5, shared_subscription_policy: 'random' },
  'no-effect5': { clean_session: false, properties: { p_session_expiry_interval: 60 } },
  'kept-session': { clean_session: false },
  'dropped-session': { clean_session: true },
  'lifo-online': { queue_type: 'lifo', max_inflight_messages: 1, max_online_messages: 1 },
  'lifo-offline': { queue_type: 'lifo', max_offline_messages: 2 },
  'bad-queue': { queue_type: 'stack' },
  'mp-alone': { mountpoint: 'elsewhere' },
  'bad-type': { max_inflight_messages: 'many' },
  'bad-name': { colour: 'red' },
  'split-allowed': { allow_register: true, allow_publish: true, allow_subscribe: true }
}

function answer (call: HookCall): Reply {
  if (!call.hook.startsWith('auth_on_register')) return { json: { result: 'ok' } }
  const modifiers = MODIFIERS[String(call.body.client_id)]
  return { json: modifiers === undefined ? { result: 'ok' } : { result: 'ok', modifiers } }
}

function publish (topic: string, payload: string, qos: 0 | 1, messageId?: number): Packet {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, ...(messageId !== undefined ? { messageId } : {}) } as Packet
}

describe('vmq_webhooks auth_on_register modifiers', () => {
  let hooks: WebhookServer
  let node: TestNode
  let source: MqttClient
  let watcher: MqttClient
  let seen: Received[]

  before(async () => {
    hooks = await WebhookServer.start(answer)
    const conf = ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on']
    for (const [i, hook] of ['auth_on_register', 'auth_on_publish', 'auth_on_register_m5'].entries()) {
      conf.push(`vmq_webhooks.h${i}.hook = ${hook}`, `vmq_webhooks.h${i}.endpoint = ${hooks.url('/' + hook)}`)
    }
    node = await startNode({ conf })
    source = await connect(node.mqttUrl, { clientId: 'source', username: 'u', password: 'p' })
    watcher = await connect(node.mqttUrl, { clientId: 'watcher', username: 'u', password: 'p' })
    await watcher.subscribeAsync('#', { qos: 0 })
    seen = collect(watcher)
  })
  after(async () => {
    await endAll(source, watcher)
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  /** A raw 3.1.1 client, connected and subscribed to `filter` at `qos`. */
  async function rawSubscriber (clientId: string, filter: string, qos: 0 | 1, extra: Record<string, unknown> = {}): Promise<RawClient> {
    const raw = await RawClient.open(node.mqttPort, clientId, { username: 'u', password: 'p', ...extra })
    assert.equal((await raw.next('connack') as IConnackPacket).returnCode, 0)
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] } as Packet)
    await raw.next('suback')
    return raw
  }

  it('max_message_size: a larger PUBLISH closes that client\'s connection (MQTT 5: DISCONNECT 0x95); other clients keep the node\'s limit', async () => {
    const raw = await RawClient.open(node.mqttPort, 'small-msgs', { username: 'u', password: 'p' })
    await raw.next('connack')
    raw.send(publish('size/ok', '1234567890', 1, 1))
    await raw.next('puback')
    raw.send(publish('size/big', '12345678901', 1, 2))
    await raw.waitClosed()
    assert.deepEqual(raw.packets.map(p => p.cmd), [])
    const { raw: raw5 } = await RawClient5.connect(node.mqttPort, 'small-msgs5', { username: 'u', password: Buffer.from('p') })
    raw5.send(publish('size/big5', '12345678901', 0))
    const disconnect = await raw5.next('disconnect') as IDisconnectPacket
    assert.equal(disconnect.reasonCode, 0x95)
    await raw5.waitClosed()
    await source.publishAsync('size/other', '12345678901', { qos: 1 })
    await waitFor(() => seen.some(m => m.topic === 'size/other'), 5000, 'a large message from a client without the modifier')
    assert.deepEqual(seen.filter(m => m.topic.startsWith('size/')).map(m => m.topic), ['size/ok', 'size/other'])
  })

  it('max_inflight_messages: one unacknowledged QoS 1 message at a time; the next goes out at the PUBACK', async () => {
    const raw = await rawSubscriber('one-inflight', 'inflight/#', 1)
    for (let i = 1; i <= 3; i++) await source.publishAsync('inflight/x', `m${i}`, { qos: 1 })
    const first = (await raw.waitCount('publish', 1))[0] as IPublishPacket
    // PINGREQ round trips: nothing else was on its way
    raw.send({ cmd: 'pingreq' } as Packet)
    await raw.next('pingresp')
    assert.deepEqual(raw.received('publish').map(p => (p as IPublishPacket).payload.toString()), ['m1'])
    raw.send({ cmd: 'puback', messageId: first.messageId } as Packet)
    const two = await raw.waitCount('publish', 2)
    assert.equal((two[1] as IPublishPacket).payload.toString(), 'm2')
    raw.close()
  })

  it('max_online_messages: with one in flight and one waiting, further messages are dropped', async () => {
    const raw = await rawSubscriber('short-queue', 'short/#', 1)
    for (let i = 1; i <= 4; i++) await source.publishAsync('short/x', `m${i}`, { qos: 1 })
    assert.deepEqual(await payloadsAckingTwo(raw), ['m1', 'm2'])
    raw.close()
  })

  it('max_offline_messages: an offline persistent session keeps two messages', async () => {
    const raw = await rawSubscriber('offline-two', 'offline/#', 1, { clean: false })
    raw.send({ cmd: 'disconnect' } as Packet)
    await raw.waitClosed()
    for (let i = 1; i <= 4; i++) await source.publishAsync('offline/x', `m${i}`, { qos: 1 })
    const back = await RawClient.open(node.mqttPort, 'offline-two', { username: 'u', password: 'p', clean: false })
    assert.equal((await back.next('connack') as IConnackPacket).sessionPresent, true)
    assert.deepEqual(await payloadsAckingTwo(back), ['m1', 'm2'])
    back.close()
  })

  it('queue_type lifo: a full online queue keeps the newest message, a full offline queue the newest two', async () => {
    const raw = await rawSubscriber('lifo-online', 'lifo/on/#', 1)
    for (let i = 1; i <= 4; i++) await source.publishAsync('lifo/on/x', `m${i}`, { qos: 1 })
    assert.deepEqual(await payloadsAckingTwo(raw), ['m1', 'm4'])
    raw.close()
    const off = await rawSubscriber('lifo-offline', 'lifo/off/#', 1, { clean: false })
    off.send({ cmd: 'disconnect' } as Packet)
    await off.waitClosed()
    for (let i = 1; i <= 4; i++) await source.publishAsync('lifo/off/x', `m${i}`, { qos: 1 })
    const back = await RawClient.open(node.mqttPort, 'lifo-offline', { username: 'u', password: 'p', clean: false })
    await back.next('connack')
    assert.deepEqual(await payloadsAckingTwo(back), ['m3', 'm4'])
    back.close()
  })

  it('retry_interval (ms): an unacknowledged QoS 1 message is sent again with DUP after 300 ms', async () => {
    const raw = await rawSubscriber('fast-retry', 'retry/#', 1)
    const started = Date.now()
    await source.publishAsync('retry/x', 'again', { qos: 1 })
    const [first, again] = await raw.waitCount('publish', 2, 5000) as IPublishPacket[]
    const waited = Date.now() - started
    assert.equal(first.dup, false)
    assert.equal(again.dup, true)
    assert.equal(again.messageId, first.messageId)
    assert.ok(waited >= 250 && waited < 5000, `sent again after ${waited} ms`)
    raw.close()
  })

  it('upgrade_qos: a QoS 0 message reaches the QoS 1 subscription at QoS 1', async () => {
    const raw = await rawSubscriber('upgrader', 'upgrade/#', 1)
    await source.publishAsync('upgrade/x', 'u', { qos: 0 })
    const [got] = await raw.waitCount('publish', 1) as IPublishPacket[]
    assert.equal(got.qos, 1)
    const plain = await rawSubscriber('plain-sub', 'upgrade/#', 1)
    await source.publishAsync('upgrade/x', 'v', { qos: 0 })
    const [notUpgraded] = await plain.waitCount('publish', 1) as IPublishPacket[]
    assert.equal(notUpgraded.qos, 0)
    raw.close()
    plain.close()
  })

  it('max_message_rate: at most 2 PUBLISHes a second from that client', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'slow-pub', username: 'u', password: 'p' })
    const started = Date.now()
    await Promise.all(Array.from({ length: 6 }, async (_, i) => await c.publishAsync('rate/x', `r${i}`, { qos: 1 })))
    const took = Date.now() - started
    assert.ok(took >= 1900, `6 PUBLISHes took ${took} ms`)
    await waitFor(() => seen.filter(m => m.topic === 'rate/x').length === 6, 5000, 'all six')
    assert.deepEqual(seen.filter(m => m.topic === 'rate/x').map(m => m.payload), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'])
    await endAll(c)
  })

  it('max_connection_lifetime (s): the connection is closed after 1 s; MQTT 5 gets DISCONNECT 0x98 first', async () => {
    const started = Date.now()
    const raw = await RawClient.open(node.mqttPort, 'short-life', { username: 'u', password: 'p' })
    await raw.next('connack')
    await raw.waitClosed(5000)
    const lived = Date.now() - started
    assert.ok(lived >= 900 && lived < 5000, `closed after ${lived} ms`)
    assert.deepEqual(raw.packets.map(p => p.cmd), [])
    const { raw: raw5 } = await RawClient5.connect(node.mqttPort, 'short-life5', { username: 'u', password: Buffer.from('p') })
    assert.equal((await raw5.next('disconnect', 5000) as IDisconnectPacket).reasonCode, 0x98)
    await raw5.waitClosed()
    assert.ok(node.stdout.includes('connection closed: max_connection_lifetime reached'), node.stdout)
  })

  it('clean_session (MQTT 3.1.1): the session is registered as the modifier says, whatever the CONNECT asked', async () => {
    // asked clean, kept: the subscription and a message sent while offline wait for the next connection
    const kept = await rawSubscriber('kept-session', 'kept/#', 1)
    kept.close()
    await kept.waitClosed()
    await source.publishAsync('kept/x', 'while away', { qos: 1 })
    const back = await RawClient.open(node.mqttPort, 'kept-session', { username: 'u', password: 'p' })
    assert.equal((await back.next('connack') as IConnackPacket).sessionPresent, true)
    assert.equal(((await back.next('publish')) as IPublishPacket).payload.toString(), 'while away')
    back.close()
    // asked persistent, made clean: nothing is kept
    const dropped = await rawSubscriber('dropped-session', 'dropped/#', 1, { clean: false })
    dropped.close()
    await dropped.waitClosed()
    const again = await RawClient.open(node.mqttPort, 'dropped-session', { username: 'u', password: 'p', clean: false })
    assert.equal((await again.next('connack') as IConnackPacket).sessionPresent, false)
    again.close()
  })

  it('username: later hooks get the new one', async () => {
    const c = await connect(node.mqttUrl, { clientId: 'renamed', username: 'old-name', password: 'p' })
    await c.publishAsync('renamed/x', 'n', { qos: 1 })
    assert.equal(hooks.of('auth_on_publish').find(x => x.body.client_id === 'renamed')?.body.username, 'new-name')
    await endAll(c)
  })

  it('allowed modifiers vmq-ts does not apply are logged as having no effect (clean_session only for MQTT 5, as in VerneMQ); client_id or mountpoint alone, a bad value or an unknown name refuse the client', async () => {
    await endAll(await connect(node.mqttUrl, { clientId: 'no-effect', username: 'u', password: 'p' }))
    await endAll(await connect(node.mqttUrl, { clientId: 'no-effect5', username: 'u', password: 'p', protocolVersion: 5 }))
    for (const name of ['max_drain_time', 'max_msgs_per_drain_step', 'shared_subscription_policy']) {
      assert.ok(node.stdout.includes(`auth_on_register: modifier ${name} has no effect in vmq-ts (ignored)`), `${name}: ${node.stdout}`)
    }
    // applied: this client's allow_unsubscribe_during_netsplit
    assert.doesNotMatch(node.stdout, /modifier allow_unsubscribe has no effect/)
    for (const name of ['clean_session', 'properties']) {
      assert.ok(node.stdout.includes(`auth_on_register_m5: modifier ${name} has no effect in vmq-ts (ignored)`), `${name}: ${node.stdout}`)
    }
    assert.doesNotMatch(node.stdout, /auth_on_register: modifier clean_session has no effect/)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'mp-alone', username: 'u', password: 'p' }), 5)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'bad-type', username: 'u', password: 'p' }), 5)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'bad-name', username: 'u', password: 'p' }), 5)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'bad-queue', username: 'u', password: 'p' }), 5)
    assert.ok(node.stdout.includes('auth_on_register: modifier "mountpoint" is not one VerneMQ allows; client mp-alone refused'), node.stdout)
    assert.ok(node.stdout.includes('auth_on_register: modifier max_inflight_messages has an invalid value "many"; client bad-type refused'), node.stdout)
    assert.ok(node.stdout.includes('auth_on_register: modifier "colour" is not one VerneMQ allows; client bad-name refused'), node.stdout)
  })
})

describe('vmq_webhooks auth_on_register allow_register, allow_publish and allow_subscribe: the client\'s own netsplit rules', () => {
  it('during a netsplit with the allow_*_during_netsplit keys off, only the client given them connects, subscribes and publishes', async () => {
    const hooks = await WebhookServer.start(answer)
    const n1 = await startNode({ conf: ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on', 'vmq_webhooks.r.hook = auth_on_register', `vmq_webhooks.r.endpoint = ${hooks.url('/r')}`] })
    const n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      const sub = await connect(n1.mqttUrl, { clientId: 'split-sub', username: 'u', password: 'p' })
      const got = collect(sub)
      await sub.subscribeAsync('split/t', { qos: 1 })
      const plain = await connect(n1.mqttUrl, { clientId: 'split-plain', username: 'u', password: 'p' })
      await n2.kill()
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: false })
      assert.equal(await connackCode(n1.mqttUrl, { clientId: 'split-new', username: 'u', password: 'p' }), 3)
      const allowed = await connect(n1.mqttUrl, { clientId: 'split-allowed', username: 'u', password: 'p' })
      assert.equal(await grantedQos(allowed, 'split/other', 1), 1)
      assert.equal(await grantedQos(plain, 'split/other', 1), 128)
      let plainAcked = false
      plain.publish('split/t', 'plain', { qos: 1 }, () => { plainAcked = true })
      await allowed.publishAsync('split/t', 'allowed', { qos: 1 })
      await waitFor(() => got.some(m => m.payload === 'allowed'), 5000, 'the allowed client\'s message')
      assert.deepEqual(got.map(m => m.payload), ['allowed'])
      assert.equal(plainAcked, false)
      plain.end(true)
      await endAll(sub, allowed)
    } finally {
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
      await hooks.stop()
    }
  })
})

/**
 * Acknowledges the first two PUBLISHes as they come, one at a time, then gives
 * the payload of every PUBLISH received once a PINGREQ round trip shows that
 * nothing else was on its way.
 */
async function payloadsAckingTwo (raw: RawClient): Promise<string[]> {
  const first = (await raw.waitCount('publish', 1))[0] as IPublishPacket
  raw.send({ cmd: 'puback', messageId: first.messageId } as Packet)
  const second = (await raw.waitCount('publish', 2))[1] as IPublishPacket
  raw.send({ cmd: 'puback', messageId: second.messageId } as Packet)
  raw.send({ cmd: 'pingreq' } as Packet)
  await raw.next('pingresp')
  return raw.received('publish').map(p => (p as IPublishPacket).payload.toString())
}
