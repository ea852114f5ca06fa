// auth_on_publish(_m5) qos and mountpoint modifiers: the message is routed at
// the new QoS / in the new mountpoint, and the publisher is answered for the
// QoS it sent (raw clients show every packet the node sends them).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import type { IPubackPacket, IPublishPacket, Packet } from 'mqtt-packet'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'
import { RawClient } from './helpers/raw.js'
import { RawClient5 } from './helpers/raw5.js'
import { WebhookServer, type HookCall, type Reply } from './helpers/webhook-server.js'

/** What auth_on_publish(_m5) answers, by topic. */
const MODIFIERS: Record<string, Record<string, unknown>> = {
  'up/0to1': { qos: 1 },
  'down/1to0': { qos: 0 },
  'up/1to2': { qos: 2 },
  'down/2to0': { qos: 0 },
  'move/here': { mountpoint: 'tenant1' },
  'move/and/rewrite': { mountpoint: 'tenant1', topic: 'moved/rewritten', qos: 1 },
  'bad/qos': { qos: 3 },
  'bad/name': { colour: 'red' },
  'throttled/x': { throttle: 1000 },
  'props/x': {
    properties: {
      p_content_type: 'application/json',
      p_user_property: [{ key: Buffer.from('k').toString('base64'), val: Buffer.from('v').toString('base64') }],
      p_correlation_data: 'corr',
      p_response_topic: 'reply/to',
      p_message_expiry_interval: 60,
      p_payload_format_indicator: 'utf8'
    }
  },
  'bad/props': { properties: { p_topic_alias: 3 } }
}

function answer (call: HookCall): Reply {
  if (!call.hook.startsWith('auth_on_publish')) return { json: { result: 'ok' } }
  const modifiers = MODIFIERS[String(call.body.topic)]
  return { json: modifiers === undefined ? { result: 'ok' } : { result: 'ok', modifiers } }
}

function publishesOn (raw: RawClient, topic: string): IPublishPacket[] {
  return raw.received('publish').filter(p => (p as IPublishPacket).topic === topic) as IPublishPacket[]
}

describe('vmq_webhooks auth_on_publish qos and mountpoint modifiers', () => {
  let hooks: WebhookServer
  let node: TestNode
  let tenantPort: number
  let sub1: MqttClient
  let sub2: MqttClient
  let tenantSub: MqttClient
  let got1: Received[]
  let got2: Received[]
  let gotTenant: Received[]

  before(async () => {
    hooks = await WebhookServer.start(answer)
    const conf = ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on']
    for (const [i, hook] of ['auth_on_register', 'auth_on_publish', 'auth_on_register_m5', 'auth_on_publish_m5'].entries()) {
      conf.push(`vmq_webhooks.h${i}.hook = ${hook}`, `vmq_webhooks.h${i}.endpoint = ${hooks.url('/' + hook)}`)
    }
    conf.push('listener.tcp.tenant = 127.0.0.1:0', 'listener.tcp.tenant.mountpoint = tenant1')
    node = await startNode({ conf })
    tenantPort = node.port('tcp.tenant')
    sub1 = await connect(node.mqttUrl, { clientId: 'sub-q1', username: 'u', password: 'p' })
    await sub1.subscribeAsync(['up/#', 'down/#', 'move/#', 'moved/#', 'marker/#'], { qos: 1 })
    got1 = collect(sub1)
    sub2 = await connect(node.mqttUrl, { clientId: 'sub-q2', username: 'u', password: 'p' })
    await sub2.subscribeAsync(['up/#', 'down/#'], { qos: 2 })
    got2 = collect(sub2)
    tenantSub = await connect(`mqtt://127.0.0.1:${tenantPort}`, { clientId: 'tenant-sub', username: 'u', password: 'p' })
    await tenantSub.subscribeAsync(['move/#', 'moved/#', 'marker/#'], { qos: 1 })
    gotTenant = collect(tenantSub)
  })
  after(async () => {
    await endAll(sub1, sub2, tenantSub)
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  /** A marker through the default mountpoint: what was published before it has reached sub1. */
  async function settle (name: string): Promise<void> {
    const m = await connect(node.mqttUrl, { clientId: `marker-${name}`, username: 'u', password: 'p' })
    await m.publishAsync(`marker/${name}`, 'm', { qos: 1 })
    await waitFor(() => got1.some(r => r.topic === `marker/${name}`), 5000, `marker ${name}`)
    await endAll(m)
  }

  it('qos 0 raised to 1: QoS 1 subscribers get QoS 1, the publisher gets no PUBACK', async () => {
    const raw = await RawClient.open(node.mqttPort, 'pub-0to1', { username: 'u', password: 'p' })
    await raw.next('connack')
    raw.send({ cmd: 'publish', topic: 'up/0to1', payload: Buffer.from('a'), qos: 0, retain: false, dup: false } as Packet)
    await waitFor(() => got1.some(r => r.topic === 'up/0to1') && got2.some(r => r.topic === 'up/0to1'), 5000, 'the raised message')
    assert.deepEqual(got1.filter(r => r.topic === 'up/0to1'), [{ topic: 'up/0to1', payload: 'a', qos: 1, retain: false }])
    assert.deepEqual(got2.filter(r => r.topic === 'up/0to1'), [{ topic: 'up/0to1', payload: 'a', qos: 1, retain: false }])
    assert.equal(hooks.of('auth_on_publish').find(c => c.body.topic === 'up/0to1')?.body.qos, 0)
    // a PINGREQ answered means everything before it was handled: no PUBACK came
    raw.send({ cmd: 'pingreq' } as Packet)
    await raw.next('pingresp')
    assert.deepEqual(raw.packets.map(p => p.cmd), [])
    raw.close()
  })

  it('qos 1 lowered to 0: subscribers get QoS 0, the publisher still gets its PUBACK', async () => {
    const raw = await RawClient.open(node.mqttPort, 'pub-1to0', { username: 'u', password: 'p' })
    await raw.next('connack')
    raw.send({ cmd: 'publish', topic: 'down/1to0', payload: Buffer.from('b'), qos: 1, messageId: 7, retain: false, dup: false } as Packet)
    const puback = await raw.next('puback') as IPubackPacket
    assert.equal(puback.messageId, 7)
    await waitFor(() => got1.some(r => r.topic === 'down/1to0') && got2.some(r => r.topic === 'down/1to0'), 5000, 'the lowered message')
    assert.deepEqual(got1.filter(r => r.topic === 'down/1to0'), [{ topic: 'down/1to0', payload: 'b', qos: 0, retain: false }])
    assert.deepEqual(got2.filter(r => r.topic === 'down/1to0'), [{ topic: 'down/1to0', payload: 'b', qos: 0, retain: false }])
    raw.close()
  })

  it('qos 1 raised to 2: a QoS 2 subscriber gets QoS 2, the publisher gets a PUBACK (no PUBREC)', async () => {
    const raw = await RawClient.open(node.mqttPort, 'pub-1to2', { username: 'u', password: 'p' })
    await raw.next('connack')
    raw.send({ cmd: 'publish', topic: 'up/1to2', payload: Buffer.from('c'), qos: 1, messageId: 8, retain: false, dup: false } as Packet)
    assert.equal((await raw.next('puback') as IPubackPacket).messageId, 8)
    await waitFor(() => got1.some(r => r.topic === 'up/1to2') && got2.some(r => r.topic === 'up/1to2'), 5000, 'the raised message')
    assert.deepEqual(got2.filter(r => r.topic === 'up/1to2'), [{ topic: 'up/1to2', payload: 'c', qos: 2, retain: false }])
    assert.deepEqual(got1.filter(r => r.topic === 'up/1to2'), [{ topic: 'up/1to2', payload: 'c', qos: 1, retain: false }])
    raw.send({ cmd: 'pingreq' } as Packet)
    await raw.next('pingresp')
    assert.deepEqual(raw.packets.map(p => p.cmd), [])
    raw.close()
  })

  it('qos 2 lowered to 0: PUBREC, PUBCOMP for the PUBREL; a copy sent again before the PUBREL is not published twice', async () => {
    const raw = await RawClient.open(node.mqttPort, 'pub-2to0', { username: 'u', password: 'p' })
    await raw.next('connack')
    const publish = { cmd: 'publish', topic: 'down/2to0', payload: Buffer.from('d'), qos: 2, messageId: 9, retain: false, dup: false }
    raw.send(publish as Packet)
    assert.equal((await raw.next('pubrec') as IPubackPacket).messageId, 9)
    raw.send({ ...publish, dup: true } as Packet)
    assert.equal((await raw.next('pubrec') as IPubackPacket).messageId, 9)
    raw.send({ cmd: 'pubrel', messageId: 9 } as Packet)
    assert.equal((await raw.next('pubcomp') as IPubackPacket).messageId, 9)
    await settle('2to0')
    assert.deepEqual(got2.filter(r => r.topic === 'down/2to0'), [{ topic: 'down/2to0', payload: 'd', qos: 0, retain: false }])
    raw.close()
  })

  it('mountpoint: the message goes to the subscribers of that mountpoint only, with the other modifiers applied', async () => {
    const pub = await connect(node.mqttUrl, { clientId: 'pub-move', username: 'u', password: 'p' })
    await pub.publishAsync('move/here', 'to tenant', { qos: 1 })
    await pub.publishAsync('move/and/rewrite', 'rewritten', { qos: 0 })
    await waitFor(() => gotTenant.some(r => r.topic === 'moved/rewritten'), 5000, 'the moved messages at the tenant')
    await settle('move')
    assert.deepEqual(gotTenant.filter(r => !r.topic.startsWith('marker/')), [
      { topic: 'move/here', payload: 'to tenant', qos: 1, retain: false },
      { topic: 'moved/rewritten', payload: 'rewritten', qos: 1, retain: false }
    ])
    assert.ok(!got1.some(r => r.topic.startsWith('move')), JSON.stringify(got1))
    // the tenant's own marker is not seen in the default mountpoint either
    assert.ok(!gotTenant.some(r => r.topic === 'marker/move'))
    await endAll(pub)
  })

  it('a will is moved too: published once, at the new QoS, in the new mountpoint', async () => {
    const raw = await RawClient.open(node.mqttPort, 'will-mover', { username: 'u', password: 'p', will: { topic: 'move/and/rewrite', payload: Buffer.from('last words'), qos: 0, retain: false } })
    await raw.next('connack')
    raw.close()
    await waitFor(() => gotTenant.some(r => r.payload === 'last words'), 5000, 'the moved will at the tenant')
    await settle('will')
    assert.deepEqual(gotTenant.filter(r => r.payload === 'last words'), [{ topic: 'moved/rewritten', payload: 'last words', qos: 1, retain: false }])
    assert.ok(!got1.some(r => r.payload === 'last words'), JSON.stringify(got1))
  })

  it('MQTT 5: a mountpoint and qos modifier on auth_on_publish_m5; properties go along', async () => {
    const raw = await RawClient5.ready(node.mqttPort, 'pub5-move')
    const tenant = await RawClient5.ready(tenantPort, 'tenant5-sub')
    await tenant.subscribe('move/#', 2)
    raw.send({ cmd: 'publish', topic: 'move/and/rewrite', payload: Buffer.from('five'), qos: 2, messageId: 3, retain: false, dup: false, properties: { contentType: 'text/plain' } } as Packet)
    const pubrec = await raw.next('pubrec') as IPubackPacket
    assert.equal(pubrec.messageId, 3)
    assert.equal(pubrec.reasonCode ?? 0, 0)
    raw.send({ cmd: 'pubrel', messageId: 3 } as Packet)
    await raw.next('pubcomp')
    await tenant.subscribe('moved/#', 2)
    raw.send({ cmd: 'publish', topic: 'move/and/rewrite', payload: Buffer.from('again'), qos: 0, retain: false, dup: false, properties: { contentType: 'text/plain' } } as Packet)
    await waitFor(() => publishesOn(tenant, 'moved/rewritten').length === 1, 5000, 'the moved MQTT 5 message')
    const [got] = publishesOn(tenant, 'moved/rewritten')
    assert.equal(got.qos, 1)
    assert.equal(got.payload.toString(), 'again')
    assert.equal(got.properties?.contentType, 'text/plain')
    assert.equal(hooks.of('auth_on_publish_m5').filter(c => c.body.client_id === 'pub5-move').length, 2)
    raw.close()
    tenant.close()
  })

  it('throttle: the PUBLISH goes on at once, the client\'s next one waits the given ms', async () => {
    const raw = await RawClient.open(node.mqttPort, 'pub-throttled', { username: 'u', password: 'p' })
    await raw.next('connack')
    raw.send({ cmd: 'publish', topic: 'throttled/x', payload: Buffer.from('t'), qos: 1, messageId: 1, retain: false, dup: false } as Packet)
    await raw.next('puback')
    const acked = Date.now()
    raw.send({ cmd: 'publish', topic: 'marker/after-throttle', payload: Buffer.from('n'), qos: 1, messageId: 2, retain: false, dup: false } as Packet)
    assert.equal((await raw.next('puback', 5000) as IPubackPacket).messageId, 2)
    const waited = Date.now() - acked
    assert.ok(waited >= 900 && waited < 4000, `the next PUBLISH was answered after ${waited} ms`)
    await waitFor(() => got1.some(r => r.topic === 'marker/after-throttle'), 5000, 'the PUBLISH after the throttle')
    raw.close()
  })

  it('MQTT 5 properties: the message goes on with the endpoint\'s properties instead of the ones sent', async () => {
    const sub = await RawClient5.ready(node.mqttPort, 'props-sub')
    await sub.subscribe('props/#', 1)
    const pub = await RawClient5.ready(node.mqttPort, 'props-pub')
    pub.send({ cmd: 'publish', topic: 'props/x', payload: Buffer.from('{}'), qos: 1, messageId: 1, retain: false, dup: false, properties: { contentType: 'text/plain', userProperties: { orig: 'x' } } } as Packet)
    assert.equal((await pub.next('puback') as IPubackPacket).reasonCode ?? 0, 0)
    await waitFor(() => publishesOn(sub, 'props/x').length === 1, 5000, 'the message with the new properties')
    const [got] = publishesOn(sub, 'props/x')
    const { messageExpiryInterval, ...rest } = got.properties ?? {}
    assert.ok(typeof messageExpiryInterval === 'number' && messageExpiryInterval <= 60 && messageExpiryInterval >= 55, String(messageExpiryInterval))
    assert.deepEqual({ ...rest, userProperties: { ...rest.userProperties }, correlationData: rest.correlationData?.toString() }, {
      contentType: 'application/json', userProperties: { k: 'v' }, correlationData: 'corr', responseTopic: 'reply/to', payloadFormatIndicator: true
    })
    pub.close()
    sub.close()
  })

  it('a qos out of range, a property VerneMQ does not allow there, or a modifier it does not allow refuses the PUBLISH', async () => {
    const raw = await RawClient5.ready(node.mqttPort, 'pub5-bad')
    raw.send({ cmd: 'publish', topic: 'bad/qos', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false } as Packet)
    assert.equal((await raw.next('puback') as IPubackPacket).reasonCode, 0x87)
    raw.send({ cmd: 'publish', topic: 'bad/name', payload: Buffer.from('x'), qos: 1, messageId: 2, retain: false, dup: false } as Packet)
    assert.equal((await raw.next('puback') as IPubackPacket).reasonCode, 0x87)
    raw.send({ cmd: 'publish', topic: 'bad/props', payload: Buffer.from('x'), qos: 1, messageId: 3, retain: false, dup: false } as Packet)
    assert.equal((await raw.next('puback') as IPubackPacket).reasonCode, 0x87)
    assert.ok(node.stdout.includes('auth_on_publish_m5: modifier qos has an invalid value 3; PUBLISH of pub5-bad to bad/qos refused'), node.stdout)
    assert.ok(node.stdout.includes('auth_on_publish_m5: modifier "colour" is not one VerneMQ allows; PUBLISH of pub5-bad to bad/name refused'), node.stdout)
    assert.ok(node.stdout.includes('auth_on_publish_m5: modifier properties has an invalid value {"p_topic_alias":3}; PUBLISH of pub5-bad to bad/props refused'), node.stdout)
    raw.close()
  })
})

describe('vmq_webhooks auth_on_publish mountpoint and qos modifiers in a cluster', () => {
  it('a message moved to another mountpoint and QoS reaches that mountpoint\'s subscribers on the other member', async () => {
    const hooks = await WebhookServer.start(answer)
    const a = await startNode({ conf: [...OPEN_ACCESS, 'plugins.vmq_webhooks = on', 'vmq_webhooks.p.hook = auth_on_publish', `vmq_webhooks.p.endpoint = ${hooks.url('/p')}`] })
    const b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`, 'listener.tcp.tenant = 127.0.0.1:0', 'listener.tcp.tenant.mountpoint = tenant1'] })
    try {
      await waitMembers(a, { [a.nodename]: true, [b.nodename]: true })
      const remoteTenant = await connect(`mqtt://127.0.0.1:${b.port('tcp.tenant')}`, { clientId: 'remote-tenant' })
      const gotRemote = collect(remoteTenant)
      await remoteTenant.subscribeAsync('moved/#', { qos: 1 })
      const remoteDefault = await connect(b.mqttUrl, { clientId: 'remote-default' })
      const gotDefault = collect(remoteDefault)
      await remoteDefault.subscribeAsync(['move/#', 'moved/#', 'marker/#'], { qos: 1 })
      const pub = await connect(a.mqttUrl, { clientId: 'cluster-pub' })
      // the members learn the tenant subscription before the publish is routed
      await waitFor(async () => {
        await pub.publishAsync('move/and/rewrite', 'across', { qos: 0 })
        return gotRemote.length > 0
      }, 10000, 'the moved message on the other member')
      assert.deepEqual(gotRemote[0], { topic: 'moved/rewritten', payload: 'across', qos: 1, retain: false })
      await pub.publishAsync('marker/cluster', 'm', { qos: 1 })
      await waitFor(() => gotDefault.some(m => m.topic === 'marker/cluster'), 5000, 'the marker in the default mountpoint')
      assert.deepEqual(gotDefault.map(m => m.topic), ['marker/cluster'])
      await endAll(remoteTenant, remoteDefault, pub)
    } finally {
      await b.stop()
      await a.stop()
      a.cleanup()
      b.cleanup()
      await hooks.stop()
    }
  })
})
