// MQTT 5 CONNECT, CONNACK and session behaviour, seen on the wire by raw v5
// clients (MQTT.js hides CONNACK properties and will not send AUTH or a bad
// topic alias).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, ISubackPacket, Packet } from 'mqtt-packet'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { pause, QUIET_MS } from './helpers/queue.js'
import { RawClient } from './helpers/raw.js'
import { RawClient5 } from './helpers/raw5.js'

/** A v5 client subscribed to one filter; fails unless the SUBACK grants `qos`. */
async function subscriber (node: TestNode, clientId: string, topic: string, qos: 0 | 1 | 2, extra: Record<string, unknown> = {}): Promise<RawClient5> {
  const { raw, connack } = await RawClient5.connect(node.mqttPort, clientId, extra)
  assert.equal(connack.reasonCode, 0)
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
  const suback = await raw.next('suback') as ISubackPacket
  assert.deepEqual(suback.granted, [qos], `SUBACK for ${topic}`)
  return raw
}

async function publish (node: TestNode, topic: string, payload: string, qos: 0 | 1 | 2 = 1): Promise<void> {
  const pub = await connect(node.mqttUrl, { protocolVersion: 5 })
  await pub.publishAsync(topic, payload, { qos })
  await endAll(pub)
}

/** Ends a raw connection the way a client does: DISCONNECT, then the close. */
async function disconnect (raw: RawClient5): Promise<void> {
  raw.send({ cmd: 'disconnect', reasonCode: 0 } as Packet)
  await raw.waitClosed()
}

describe('MQTT 5 sessions: Session Present tells the truth and the queue lives as long as the session', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  for (const how of ['DISCONNECT', 'a dropped connection']) {
    it(`a session without Session Expiry Interval ends at ${how}: the reconnect gets Session Present 0, no queue and no subscription`, async () => {
      const clientId = how === 'DISCONNECT' ? 'ends' : 'drops'
      const first = await subscriber(node, clientId, `${clientId}/t`, 1, { clean: false })
      if (how === 'DISCONNECT') await disconnect(first)
      else first.close()
      await waitFor(async () => !(await node.admin(['session', 'show', '--format=json'])).stdout.includes(`"${clientId}"`), 5000, 'the session gone')
      await publish(node, `${clientId}/t`, 'while offline')
      const { raw, connack } = await RawClient5.connect(node.mqttPort, clientId, { clean: false })
      assert.equal(connack.reasonCode, 0)
      assert.equal(connack.sessionPresent, false)
      await publish(node, `${clientId}/t`, 'after reconnect')
      await pause(QUIET_MS)
      assert.deepEqual(raw.received('publish'), [])
      raw.close()
    })
  }

  it('a kept session resumed without Session Expiry Interval delivers its queue, then ends with that connection', async () => {
    const first = await subscriber(node, 'last', 'last/t', 1, { clean: false, properties: { sessionExpiryInterval: 60 } })
    await disconnect(first)
    await publish(node, 'last/t', 'while offline')
    const { raw: second, connack } = await RawClient5.connect(node.mqttPort, 'last', { clean: false })
    assert.equal(connack.sessionPresent, true)
    const got = await second.next('publish') as IPublishPacket
    assert.equal(got.payload.toString(), 'while offline')
    second.send({ cmd: 'puback', messageId: got.messageId } as Packet)
    await disconnect(second)
    const { raw: third, connack: thirdAck } = await RawClient5.connect(node.mqttPort, 'last', { clean: false })
    assert.equal(thirdAck.sessionPresent, false)
    third.close()
  })

  it('a session with a Session Expiry Interval and no subscription is present at reconnect', async () => {
    const { raw: first, connack: firstAck } = await RawClient5.connect(node.mqttPort, 'bare', { clean: false, properties: { sessionExpiryInterval: 60 } })
    assert.equal(firstAck.sessionPresent, false)
    await disconnect(first)
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'bare', { clean: false, properties: { sessionExpiryInterval: 60 } })
    assert.equal(connack.reasonCode, 0)
    assert.equal(connack.sessionPresent, true)
    raw.close()
  })

  it('a session with a Session Expiry Interval keeps its subscription and queue: Session Present 1 and the queued message', async () => {
    const first = await subscriber(node, 'kept', 'kept/t', 1, { clean: false, properties: { sessionExpiryInterval: 60 } })
    await disconnect(first)
    await publish(node, 'kept/t', 'while offline')
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'kept', { clean: false, properties: { sessionExpiryInterval: 60 } })
    assert.equal(connack.sessionPresent, true)
    const got = await raw.next('publish') as IPublishPacket
    assert.equal(got.payload.toString(), 'while offline')
    raw.close()
  })

  it('Clean Start 1 discards a kept session: Session Present 0', async () => {
    const { raw: first } = await RawClient5.connect(node.mqttPort, 'restart', { clean: false, properties: { sessionExpiryInterval: 60 } })
    await disconnect(first)
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'restart', { clean: true, properties: { sessionExpiryInterval: 60 } })
    assert.equal(connack.sessionPresent, false)
    raw.close()
  })

  it('a 3.1.1 persistent session without subscriptions is present at reconnect', async () => {
    const first = await RawClient.open(node.mqttPort, 'bare311', { clean: false })
    assert.equal((await first.next('connack') as IConnackPacket).sessionPresent, false)
    first.send({ cmd: 'disconnect' })
    await first.waitClosed()
    const again = await RawClient.open(node.mqttPort, 'bare311', { clean: false })
    assert.equal((await again.next('connack') as IConnackPacket).sessionPresent, true)
    again.close()
  })
})

describe('MQTT 5 wills', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  for (const delay of [0, 1]) {
    it(`a will with Will Delay Interval ${delay} arrives without that property and with the others`, async () => {
      const watcher = await subscriber(node, `watcher${delay}`, 'will/#', 1)
      const properties = {
        willDelayInterval: delay,
        userProperties: { origin: 'test' },
        contentType: 'text/plain',
        payloadFormatIndicator: true,
        responseTopic: 'reply/here',
        correlationData: Buffer.from('c1'),
        messageExpiryInterval: 300
      }
      const { raw: dying } = await RawClient5.connect(node.mqttPort, `dying${delay}`, {
        properties: { sessionExpiryInterval: 10 },
        will: { topic: `will/${delay}`, payload: Buffer.from('gone'), qos: 1, retain: false, properties }
      })
      dying.close()
      const will = await watcher.next('publish', 5000) as IPublishPacket
      assert.equal(will.payload.toString(), 'gone')
      const got = will.properties ?? {}
      assert.equal('willDelayInterval' in got, false, `no Will Delay Interval on the PUBLISH: ${JSON.stringify(got)}`)
      assert.deepEqual({ ...got.userProperties }, { origin: 'test' })
      assert.equal(got.contentType, 'text/plain')
      assert.equal(got.payloadFormatIndicator, true)
      assert.equal(got.responseTopic, 'reply/here')
      assert.deepEqual(got.correlationData, Buffer.from('c1'))
      assert.ok(got.messageExpiryInterval !== undefined && got.messageExpiryInterval <= 300 && got.messageExpiryInterval > 290)
      watcher.close()
    })
  }
})

describe('MQTT 5 flow control towards the broker (receive_max_broker)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'receive_max_broker = 2'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('advertises Receive Maximum and disconnects a client with more unacknowledged QoS 2 PUBLISHes with 0x93', async () => {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'eager')
    assert.equal(connack.properties?.receiveMaximum, 2)
    for (const messageId of [1, 2]) {
      raw.send({ cmd: 'publish', topic: 'flow/t', payload: Buffer.from(String(messageId)), qos: 2, messageId, retain: false, dup: false })
      await raw.next('pubrec')
    }
    raw.send({ cmd: 'publish', topic: 'flow/t', payload: Buffer.from('3'), qos: 2, messageId: 3, retain: false, dup: false })
    const disconnect = await raw.next('disconnect') as IDisconnectPacket
    assert.equal(disconnect.reasonCode, 0x93)
    await raw.waitClosed()
    assert.deepEqual(raw.received('pubrec'), [], 'no PUBREC for the PUBLISH over the limit')
  })

  it('a client that sends on before it reads still gets its DISCONNECT 0x93: the node half-closes and does not reset the connection', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'reads-late')
    // a client that reads one packet at a time (the Eclipse Paho test client):
    // nothing is read while it sends a burst over the limit and then its PUBRELs
    raw.socket.pause()
    for (const messageId of [1, 2, 3]) raw.send({ cmd: 'publish', topic: 'flow/t', payload: Buffer.from(String(messageId)), qos: 2, messageId, retain: false, dup: false })
    // what it sends after the node answered: a node that closed the socket at
    // once answers these bytes with a reset, which discards the unread DISCONNECT
    await new Promise(resolve => setTimeout(resolve, 300))
    for (const messageId of [1, 2]) raw.send({ cmd: 'pubrel', messageId } as Packet)
    await new Promise(resolve => setTimeout(resolve, 100))
    raw.socket.resume()
    const disconnect = await raw.next('disconnect') as IDisconnectPacket
    assert.equal(disconnect.reasonCode, 0x93)
    // PUBREC 2 may be dropped: written after the DISCONNECT, nothing may follow it (MQTT-3.14.4-1)
    const pubrecs = raw.packets.filter(p => p.cmd === 'pubrec').map(p => (p as { messageId?: number }).messageId)
    assert.equal(pubrecs.includes(3), false, `no PUBREC for the PUBLISH over the limit: ${pubrecs.join(', ')}`)
    await raw.waitClosed()
  })

  it('counts a QoS 2 PUBLISH as acknowledged once its PUBCOMP is sent', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'polite')
    for (let messageId = 1; messageId <= 6; messageId++) {
      raw.send({ cmd: 'publish', topic: 'flow/t', payload: Buffer.from(String(messageId)), qos: 2, messageId, retain: false, dup: false })
      await raw.next('pubrec')
      raw.send({ cmd: 'pubrel', messageId } as Packet)
      await raw.next('pubcomp')
    }
    for (let messageId = 7; messageId <= 12; messageId++) {
      raw.send({ cmd: 'publish', topic: 'flow/t', payload: Buffer.from(String(messageId)), qos: 1, messageId, retain: false, dup: false })
      await raw.next('puback')
    }
    assert.equal(raw.closed, false)
    raw.close()
  })

  it('takes a new receive_max_broker for connections made after `vmq set`', async () => {
    const set = await node.admin(['set', 'receive_max_broker=3'])
    assert.equal(set.code, 0, set.stderr)
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'later')
    assert.equal(connack.properties?.receiveMaximum, 3)
    for (const messageId of [1, 2, 3]) {
      raw.send({ cmd: 'publish', topic: 'flow/t', payload: Buffer.from(String(messageId)), qos: 2, messageId, retain: false, dup: false })
      await raw.next('pubrec')
    }
    raw.send({ cmd: 'publish', topic: 'flow/t', payload: Buffer.from('4'), qos: 2, messageId: 4, retain: false, dup: false })
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x93)
    await raw.waitClosed()
  })
})

describe('MQTT 5 CONNACK capabilities and shared subscriptions', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('advertises nothing that is not true: shared, wildcard and identifier subscriptions, retain and QoS 2 all work', async () => {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'caps')
    const props = connack.properties ?? {}
    for (const key of ['sharedSubscriptionAvailable', 'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'retainAvailable'] as const) {
      assert.notEqual(props[key], false, `${key} is not advertised as unavailable`)
    }
    assert.equal(props.maximumQoS, undefined, 'QoS 2 is supported, so no Maximum QoS is sent')
    assert.equal(props.receiveMaximum, undefined, 'receive_max_broker at the protocol default is not advertised')
    assert.equal(props.topicAliasMaximum, undefined, 'topic_alias_max_broker = 0 is not advertised')
    raw.close()
  })

  it('grants $share subscriptions to v5 clients and gives each message to one member', async () => {
    const members = [await subscriber(node, 'm1', '$share/g/jobs/#', 1), await subscriber(node, 'm2', '$share/g/jobs/#', 1)]
    const pub = await connect(node.mqttUrl, { protocolVersion: 5 })
    for (let i = 0; i < 20; i++) await pub.publishAsync('jobs/a', String(i), { qos: 1 })
    const total = (): number => members.reduce((n, m) => n + m.received('publish').length, 0)
    await waitFor(() => total() >= 20, 5000, '20 deliveries')
    await pause(QUIET_MS)
    const all = members.flatMap(m => (m.received('publish') as IPublishPacket[]).map(p => Number(p.payload.toString()))).sort((a, b) => a - b)
    assert.deepEqual(all, Array.from({ length: 20 }, (_, i) => i), 'each message exactly once')
    for (const m of members) m.close()
    await endAll(pub)
  })

  it('restores a v5 persistent session\'s $share subscription at reconnect', async () => {
    const first = await subscriber(node, 'sharer', '$share/r/restored/#', 1, { clean: false, properties: { sessionExpiryInterval: 60 } })
    await disconnect(first)
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'sharer', { clean: false, properties: { sessionExpiryInterval: 60 } })
    assert.equal(connack.sessionPresent, true)
    await publish(node, 'restored/x', 'to the group')
    assert.equal((await raw.next('publish') as IPublishPacket).payload.toString(), 'to the group')
    raw.close()
  })
})

describe('MQTT 5 keep alive cap (max_keepalive)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'max_keepalive = 2'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('sends Server Keep Alive to a client asking more, or 0, and closes it after 1.5 x the cap of silence', async () => {
    const { raw: more, connack: moreAck } = await RawClient5.connect(node.mqttPort, 'ka-more', { keepalive: 60 })
    assert.equal(moreAck.properties?.serverKeepAlive, 2)
    const { raw: none, connack: noneAck } = await RawClient5.connect(node.mqttPort, 'ka-none', { keepalive: 0 })
    assert.equal(noneAck.properties?.serverKeepAlive, 2)
    const started = Date.now()
    await none.waitClosed(6000)
    await more.waitClosed(1000)
    assert.ok(Date.now() - started >= 2500, `closed after ${Date.now() - started} ms`)
  })

  it('leaves a client within the cap alone: no Server Keep Alive', async () => {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'ka-within', { keepalive: 1 })
    assert.equal(connack.properties?.serverKeepAlive, undefined)
    raw.close()
  })

  it('accepts a 3.1.1 client asking more (3.1.1 has no way to tell it the cap)', async () => {
    const c = await RawClient.open(node.mqttPort, 'ka311', { keepalive: 60 })
    assert.equal((await c.next('connack') as IConnackPacket).returnCode, 0)
    await pause(3500)
    assert.equal(c.closed, false)
    c.close()
  })
})

describe('MQTT 5 connections: assigned ids, topic aliases from clients, AUTH', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'topic_alias_max_broker = 2'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('assigns a plain random client id to a v5 client with an empty one, and reports it in CONNACK', async () => {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, '')
    const assigned = connack.properties?.assignedClientIdentifier
    assert.match(String(assigned), /^anon-[A-Za-z0-9_-]{20}$/)
    const shown = await node.admin(['session', 'show', '--format=json'])
    assert.ok(shown.stdout.includes(String(assigned)), shown.stdout)
    raw.close()
  })

  it('assigns the same kind of id to a 3.1.1 clean session with an empty client id', async () => {
    const c = await RawClient.open(node.mqttPort, '', { clean: true })
    assert.equal((await c.next('connack') as IConnackPacket).returnCode, 0)
    const shown = await node.admin(['session', 'show', '--format=json'])
    assert.doesNotMatch(shown.stdout, /aedes_/)
    assert.match(shown.stdout, /anon-[A-Za-z0-9_-]{20}/)
    c.close()
  })

  it('advertises Topic Alias Maximum, resolves aliases up to it and disconnects a client using a larger one with 0x94', async () => {
    const watcher = await connect(node.mqttUrl, { protocolVersion: 5 })
    const got: Received[] = collect(watcher)
    await watcher.subscribeAsync('alias/#', { qos: 1 })
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'aliaser')
    assert.equal(connack.properties?.topicAliasMaximum, 2)
    raw.send({ cmd: 'publish', topic: 'alias/one', payload: Buffer.from('a'), qos: 1, messageId: 1, retain: false, dup: false, properties: { topicAlias: 2 } })
    await raw.next('puback')
    raw.send({ cmd: 'publish', topic: '', payload: Buffer.from('b'), qos: 1, messageId: 2, retain: false, dup: false, properties: { topicAlias: 2 } })
    await raw.next('puback')
    await waitFor(() => got.length === 2, 5000, 'both messages')
    assert.deepEqual(got.map(m => [m.topic, m.payload]), [['alias/one', 'a'], ['alias/one', 'b']])
    raw.send({ cmd: 'publish', topic: 'alias/two', payload: Buffer.from('c'), qos: 1, messageId: 3, retain: false, dup: false, properties: { topicAlias: 3 } })
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x94)
    await raw.waitClosed()
    await endAll(watcher)
  })

  it('takes a new topic_alias_max_broker from `vmq set` on', async () => {
    const set = await node.admin(['set', 'topic_alias_max_broker=3'])
    assert.equal(set.code, 0, set.stderr)
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'aliaser3')
    assert.equal(connack.properties?.topicAliasMaximum, 3)
    raw.send({ cmd: 'publish', topic: 'alias/three', payload: Buffer.from('d'), qos: 1, messageId: 1, retain: false, dup: false, properties: { topicAlias: 3 } })
    await raw.next('puback')
    raw.close()
  })

  it('answers an AUTH packet from a client that sent no Authentication Method with DISCONNECT 0x82 and closes', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'authing')
    // AUTH, reason 0x19 (re-authenticate), no properties. [MQTT-4.12.0-5]: a Protocol
    // Error; 0x8C (Bad authentication method) is a CONNACK code, not a DISCONNECT one.
    raw.writeBytes(Buffer.from([0xf0, 0x02, 0x19, 0x00]))
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x82)
    await raw.waitClosed()
  })

  it('answers a CONNECT with an Authentication Method with CONNACK 0x8C and closes', async () => {
    const raw = await RawClient5.open(node.mqttPort, 'enhanced', { properties: { authenticationMethod: 'SCRAM-SHA-1' } })
    const connack = await raw.next('connack') as IConnackPacket
    assert.equal(connack.reasonCode, 0x8c)
    await raw.waitClosed()
  })
})
