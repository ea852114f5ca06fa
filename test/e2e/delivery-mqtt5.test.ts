// Outgoing delivery against the protocol's rules, seen on the wire: QoS 2 retries
// after PUBREC, MQTT 5 message expiry of a resumed session, PUBLISHes to `$`
// topics, the client's Maximum Packet Size, subscription identifiers of
// overlapping subscriptions, and a subscriber that stops reading.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { IPublishPacket, Packet } from 'mqtt-packet'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { RawClient5 } from './helpers/raw5.js'
import { metric } from './helpers/prom.js'
import { consoleLog, count, pause, publishes, QUIET_MS, rawConnect, rawSubscriber } from './helpers/queue.js'

async function connect5 (node: TestNode, opts: IClientOptions = {}): Promise<MqttClient> {
  return await connect(node.mqttUrl, { protocolVersion: 5, ...opts })
}

describe('QoS 2 retries of a clean session (retry_interval = 1)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'retry_interval = 1'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('after PUBREC the retry is PUBREL with the same packet id, never a PUBLISH with DUP (MQTT-4.3.3)', async () => {
    const raw = await rawSubscriber(node, 'q2clean', 'q2/clean', 2)
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('q2/clean', 'once', { qos: 2 })
    const [first] = await raw.waitCount('publish', 1) as IPublishPacket[]
    assert.equal(first.qos, 2)
    raw.send({ cmd: 'pubrec', messageId: first.messageId })
    // the PUBREL answering the PUBREC, then at least one retry of it
    const released = await raw.waitCount('pubrel', 2, 4000)
    assert.deepEqual(released.map(p => p.messageId), released.map(() => first.messageId))
    assert.equal(publishes(raw).length, 1, 'no PUBLISH resent after PUBREC')
    raw.send({ cmd: 'pubcomp', messageId: first.messageId })
    const seen = raw.received('pubrel').length
    await pause(1500)
    assert.equal(raw.received('pubrel').length, seen, 'no PUBREL after PUBCOMP')
    assert.equal(publishes(raw).length, 1)
    raw.close()
    await endAll(pub)
  })
})

describe('MQTT 5 PUBREC with an error reason (retry_interval = 1)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'retry_interval = 1', 'max_inflight_messages = 1'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('ends the QoS 2 exchange: no PUBREL, no retry, and the window moves on (MQTT 5 §4.3.3)', async () => {
    const sub = await RawClient5.ready(node.mqttPort, 'recerror')
    await sub.subscribe('rec/err', 2)
    const pub = await connect5(node)
    await pub.publishAsync('rec/err', 'refused', { qos: 2 })
    await pub.publishAsync('rec/err', 'next', { qos: 2 })
    const first = await sub.next('publish') as IPublishPacket
    assert.equal(first.payload.toString(), 'refused')
    sub.send({ cmd: 'pubrec', messageId: first.messageId, reasonCode: 0x80 } as Packet)
    const second = await sub.next('publish') as IPublishPacket
    assert.equal(second.payload.toString(), 'next')
    sub.send({ cmd: 'pubrec', messageId: second.messageId })
    await sub.next('pubrel')
    sub.send({ cmd: 'pubcomp', messageId: second.messageId })
    await pause(1500)
    assert.deepEqual(sub.packets.map(p => p.cmd), [], 'no PUBREL for the refused one, no retry of either')
    sub.close()
    await endAll(pub)
  })
})

describe('PUBREC for a packet id the node did not send', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('5: a persistent session gets PUBREL 0x92 (Packet Identifier not found) and keeps its connection (MQTT 5 §4.3.3)', async () => {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'stray-rec5', { clean: false, properties: { sessionExpiryInterval: 60 } })
    assert.equal(connack.reasonCode, 0)
    raw.send({ cmd: 'pubrec', messageId: 777 } as Packet)
    const pubrel = await raw.next('pubrel') as { messageId: number, reasonCode?: number }
    assert.deepEqual([pubrel.messageId, pubrel.reasonCode], [777, 0x92])
    raw.send({ cmd: 'pingreq' } as Packet)
    await raw.next('pingresp')
    assert.equal(raw.closed, false)
    raw.close()
  })

  it('3.1.1: a persistent session gets PUBREL for it and keeps its connection', async () => {
    const { raw } = await rawConnect(node, 'stray-rec4', { clean: false })
    raw.send({ cmd: 'pubrec', messageId: 778 })
    assert.equal((await raw.next('pubrel')).messageId, 778)
    raw.send({ cmd: 'pingreq' })
    await raw.next('pingresp')
    raw.close()
  })
})

describe('MQTT 5 message expiry', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('a resumed session gets no expired message, and the rest with the remaining interval (MQTT-3.3.2-5/6)', async () => {
    const opts: IClientOptions = { clientId: 'expiring', clean: false, properties: { sessionExpiryInterval: 300 } }
    const first = await connect5(node, opts)
    await first.subscribeAsync('exp/t', { qos: 1 })
    await first.endAsync()
    const pub = await connect5(node)
    await pub.publishAsync('exp/t', 'A', { qos: 1, properties: { messageExpiryInterval: 1 } })
    await pub.publishAsync('exp/t', 'B', { qos: 1, properties: { messageExpiryInterval: 60 } })
    // A's interval is 1 s: wait until it has certainly passed
    await pause(2100)
    const got: Array<{ payload: string, expiry: number | undefined }> = []
    const back = mqtt.connect(node.mqttUrl, { protocolVersion: 5, reconnectPeriod: 0, ...opts })
    back.on('message', (_topic, payload, packet) => got.push({ payload: payload.toString(), expiry: packet.properties?.messageExpiryInterval }))
    await new Promise<void>((resolve, reject) => { back.once('connect', () => resolve()); back.once('error', reject) })
    await waitFor(() => got.length >= 1, 5000, 'the queued message')
    await pause(QUIET_MS)
    assert.deepEqual(got.map(m => m.payload), ['B'])
    const expiry = got[0].expiry ?? 0
    assert.ok(expiry <= 59 && expiry >= 55, `remaining interval ${expiry}`)
    await endAll(back, pub)
  })

  it('a message waiting in the online queue expires there, or goes out with the interval that remains', async () => {
    const sub = await RawClient5.ready(node.mqttPort, 'waiting', { receiveMaximum: 1 })
    await sub.subscribe('wait/t', 1)
    const pub = await connect5(node)
    await pub.publishAsync('wait/t', 'first', { qos: 1 })
    await pub.publishAsync('wait/t', 'A', { qos: 1, properties: { messageExpiryInterval: 1 } })
    await pub.publishAsync('wait/t', 'B', { qos: 1, properties: { messageExpiryInterval: 60 } })
    const first = await sub.next('publish') as IPublishPacket
    assert.equal(first.payload.toString(), 'first')
    // A waits behind the unacknowledged first message until its 1 s have passed
    await pause(2100)
    sub.send({ cmd: 'puback', messageId: first.messageId })
    const next = await sub.next('publish') as IPublishPacket
    assert.equal(next.payload.toString(), 'B')
    const expiry = next.properties?.messageExpiryInterval ?? 0
    assert.ok(expiry <= 59 && expiry >= 55, `remaining interval ${expiry}`)
    sub.send({ cmd: 'puback', messageId: next.messageId })
    await pause(QUIET_MS)
    assert.equal(sub.received('publish').length, 0)
    sub.close()
    await endAll(pub)
  })
})

describe('PUBLISH to $ topics', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('3.1.1: QoS 1 gets a PUBACK, QoS 2 a PUBREC and PUBCOMP; nobody receives them (MQTT-3.3.4-1)', async () => {
    const sub = await rawSubscriber(node, 'dollarsub', '$foo/#', 2)
    const { raw } = await rawConnect(node, 'dollarpub')
    raw.send({ cmd: 'publish', topic: '$foo/x', payload: Buffer.from('one'), qos: 1, messageId: 11, retain: false, dup: false })
    const puback = await raw.next('puback')
    assert.equal(puback.messageId, 11)
    raw.send({ cmd: 'publish', topic: '$SYS/x', payload: Buffer.from('two'), qos: 2, messageId: 12, retain: false, dup: false })
    const pubrec = await raw.next('pubrec')
    assert.equal(pubrec.messageId, 12)
    raw.send({ cmd: 'pubrel', messageId: 12 })
    const pubcomp = await raw.next('pubcomp')
    assert.equal(pubcomp.messageId, 12)
    raw.send({ cmd: 'publish', topic: '$foo/y', payload: Buffer.from('three'), qos: 0, retain: false, dup: false })
    await pause(QUIET_MS)
    assert.equal(publishes(sub).length, 0)
    assert.equal(raw.closed, false)
    raw.close()
    sub.close()
  })

  it('5: QoS 1 gets PUBACK 0x87 and QoS 2 PUBREC 0x87, without properties; nobody receives them', async () => {
    const sub = await RawClient5.ready(node.mqttPort, 'dollarsub5')
    await sub.subscribe('$foo/#', 2)
    const pub = await RawClient5.ready(node.mqttPort, 'dollarpub5')
    pub.send({ cmd: 'publish', topic: '$foo/x', payload: Buffer.from('one'), qos: 1, messageId: 21, retain: false, dup: false })
    const puback = await pub.next('puback') as { messageId: number, reasonCode: number, length: number, properties?: { reasonString?: string } }
    assert.equal(puback.messageId, 21)
    assert.equal(puback.reasonCode, 0x87)
    // no Reason String: the Eclipse Paho test client refuses a PUBACK longer than 4 bytes
    assert.equal(puback.properties, undefined)
    assert.equal(puback.length, 4) // packet id, reason code, an empty property block
    pub.send({ cmd: 'publish', topic: '$foo/y', payload: Buffer.from('two'), qos: 2, messageId: 22, retain: false, dup: false })
    const pubrec = await pub.next('pubrec') as { messageId: number, reasonCode: number, length: number }
    assert.equal(pubrec.messageId, 22)
    assert.equal(pubrec.reasonCode, 0x87)
    assert.equal(pubrec.length, 4)
    await pause(QUIET_MS)
    assert.equal(sub.received('publish').length, 0)
    assert.equal(pub.closed, false)
    pub.close()
    sub.close()
  })

  it('5: a client that sets Request Problem Information 0 gets the same refusal without the reason string (MQTT-3.1.2-29)', async () => {
    const pub = await RawClient5.ready(node.mqttPort, 'dollarquiet5', { requestProblemInformation: false })
    pub.send({ cmd: 'publish', topic: '$foo/z', payload: Buffer.from('three'), qos: 1, messageId: 23, retain: false, dup: false })
    const puback = await pub.next('puback') as { messageId: number, reasonCode: number, properties?: { reasonString?: string } }
    assert.deepEqual([puback.messageId, puback.reasonCode, puback.properties?.reasonString], [23, 0x87, undefined])
    pub.close()
  })
})

describe('MQTT 5 Maximum Packet Size of the receiver', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  for (const qos of [0, 1] as const) {
    it(`QoS ${qos}: a PUBLISH larger than a client's maximum goes to the other subscribers only (MQTT-3.1.2-24/25)`, async () => {
      const small = await RawClient5.ready(node.mqttPort, `small${qos}`, { maximumPacketSize: 64 })
      await small.subscribe(`mps/${qos}`, qos)
      const large = await RawClient5.ready(node.mqttPort, `large${qos}`)
      await large.subscribe(`mps/${qos}`, qos)
      const pub = await connect5(node)
      await pub.publishAsync(`mps/${qos}`, 'x'.repeat(70), { qos })
      await pub.publishAsync(`mps/${qos}`, 'tiny', { qos })
      await waitFor(() => large.received('publish').length >= 2, 5000, 'both messages at the other subscriber')
      await waitFor(() => small.received('publish').length >= 1, 5000, 'the small message at the limited subscriber')
      await pause(QUIET_MS)
      const got = small.received('publish') as IPublishPacket[]
      assert.deepEqual(got.map(p => p.payload.toString()), ['tiny'])
      assert.deepEqual((large.received('publish') as IPublishPacket[]).map(p => p.payload.toString()), ['x'.repeat(70), 'tiny'])
      assert.equal(small.closed, false)
      small.close()
      large.close()
      await endAll(pub)
    })
  }
})

describe('receive_max_client = 2', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'receive_max_client = 2'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('an MQTT 5 subscriber that acknowledges nothing gets 2 QoS 1 messages at a time; a 3.1.1 one gets max_inflight_messages', async () => {
    const v5 = await RawClient5.ready(node.mqttPort, 'rmc5')
    await v5.subscribe('rmc/t', 1)
    const v4 = await rawSubscriber(node, 'rmc4', 'rmc/t', 1)
    const pub = await connect5(node)
    for (let i = 0; i < 5; i++) await pub.publishAsync('rmc/t', String(i), { qos: 1 })
    await waitFor(() => v5.received('publish').length >= 2, 5000, 'two messages at the v5 subscriber')
    await waitFor(() => publishes(v4).length >= 5, 5000, 'five messages at the 3.1.1 subscriber')
    await pause(QUIET_MS)
    assert.deepEqual((v5.received('publish') as IPublishPacket[]).map(p => p.payload.toString()), ['0', '1'])
    const first = v5.received('publish')[0] as IPublishPacket
    v5.send({ cmd: 'puback', messageId: first.messageId })
    await waitFor(() => v5.received('publish').length >= 3, 5000, 'the third message once one is acknowledged')
    v5.close()
    v4.close()
    await endAll(pub)
  })
})

describe('MQTT 5 subscription identifiers', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('overlapping subscriptions: one PUBLISH carrying every matching identifier, at the highest QoS (MQTT-3.3.4-3/4/5)', async () => {
    const sub = await RawClient5.ready(node.mqttPort, 'sids')
    await sub.subscribe('a/+', 0, { subscriptionIdentifier: 1 })
    await sub.subscribe('a/#', 1, { subscriptionIdentifier: 2 })
    await sub.subscribe('b/#', 1, { subscriptionIdentifier: 3 })
    const pub = await connect5(node)
    await pub.publishAsync('a/b', 'both', { qos: 1 })
    await pub.publishAsync('b/c', 'one', { qos: 1 })
    await waitFor(() => sub.received('publish').length >= 2, 5000, 'two messages')
    await pause(QUIET_MS)
    const got = sub.received('publish') as IPublishPacket[]
    assert.deepEqual(got.map(p => p.payload.toString()), ['both', 'one'])
    const ids = ([] as number[]).concat(got[0].properties?.subscriptionIdentifier as number | number[]).sort()
    assert.deepEqual(ids, [1, 2])
    assert.equal(got[0].qos, 1)
    assert.equal(got[1].properties?.subscriptionIdentifier, 3)
    sub.close()
    await endAll(pub)
  })
})

describe('drops for a full online queue (max_inflight_messages = 1, max_online_messages = 2)', () => {
  let node: TestNode
  let httpPort: number
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'max_inflight_messages = 1', 'max_online_messages = 2', 'listener.http.default = 127.0.0.1:0'] })
    httpPort = node.port('http.default')
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('are counted in queue_message_drop, and logged once per connection at the default log level', async () => {
    const lines = (): number => count(consoleLog(node), 'online queue full')
    const before = lines()
    const dropsBefore = await metric(node, httpPort, 'queue_message_drop')
    for (const clientId of ['full-a', 'full-b']) {
      const raw = await rawSubscriber(node, clientId, 'full/t', 1)
      const pub = await connect(node.mqttUrl)
      // one in flight (never acknowledged), two waiting, the other 17 dropped
      for (let i = 0; i < 20; i++) await pub.publishAsync('full/t', String(i), { qos: 1 })
      await waitFor(() => lines() - before === (clientId === 'full-a' ? 1 : 2), 5000, `the drop warning for ${clientId}`)
      raw.close()
      await endAll(pub)
    }
    await pause(QUIET_MS)
    assert.equal(lines() - before, 2)
    assert.equal(count(consoleLog(node), 'further drops for this connection are counted'), 2)
    assert.equal(await metric(node, httpPort, 'queue_message_drop') - dropsBefore, 2 * 17)
  })
})

describe('a QoS 0 subscriber that stops reading, QoS 1 publishes (max_online_messages = 10)', () => {
  let node: TestNode
  let httpPort: number
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'max_online_messages = 10', 'listener.http.default = 127.0.0.1:0'] })
    httpPort = node.port('http.default')
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('gets the messages beyond its buffer dropped, counted and logged once; the publisher and other subscribers go on', async () => {
    const total = 1000
    const stuck = await rawSubscriber(node, 'stuck0', 'down/t', 0)
    stuck.socket.pause()
    const reader = await connect(node.mqttUrl)
    await reader.subscribeAsync('down/t', { qos: 1 })
    let got = 0
    reader.on('message', () => { got++ })
    const dropsBefore = await metric(node, httpPort, 'queue_message_drop')
    // 10 MB at QoS 1, more than the socket buffers of the stuck connection
    // take; one at a time, so the reader's own queue never overflows
    const pub = await connect(node.mqttUrl)
    const payload = Buffer.alloc(10 * 1024, 1)
    for (let i = 0; i < total; i++) await pub.publishAsync('down/t', payload, { qos: 1 })
    await waitFor(() => got === total, 20000, `${total} messages at the reading subscriber (got ${got})`)
    const dropped = await metric(node, httpPort, 'queue_message_drop') - dropsBefore
    assert.ok(dropped > 0, 'messages were dropped for the stuck subscriber')
    // reading again, it gets exactly the messages that were not dropped
    stuck.socket.resume()
    await waitFor(() => publishes(stuck).length === total - dropped, 20000, `${total - dropped} messages at the stuck subscriber (got ${publishes(stuck).length})`)
    await pause(QUIET_MS)
    assert.equal(publishes(stuck).length, total - dropped)
    assert.equal(await metric(node, httpPort, 'queue_message_drop') - dropsBefore, dropped)
    const warnings = consoleLog(node).split('\n').filter(line => line.includes('QoS 0 message dropped') && line.includes('client=stuck0 '))
    assert.equal(warnings.length, 1)
    assert.equal(stuck.closed, false)
    stuck.close()
    await endAll(pub, reader)
  })
})

describe('a subscriber that stops reading (max_online_messages = -1, outgoing_buffer_limit = 1MB)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'max_online_messages = -1', 'outgoing_buffer_limit = 1MB'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  const warning = 'closing the connection of a client that is not reading'

  /** Floods `topic` with 10 KB QoS 0 messages until the node warns about `clientId` (bounded). */
  async function flood (topic: string, clientId: string): Promise<MqttClient> {
    const pub = await connect(node.mqttUrl)
    const payload = Buffer.alloc(10 * 1024, 1)
    const deadline = Date.now() + 30000
    let sent = 0
    while (warnings(clientId) === 0 && Date.now() < deadline && sent < 20000) {
      for (let i = 0; i < 99; i++) pub.publish(topic, payload, { qos: 0 })
      await pub.publishAsync(topic, payload, { qos: 0 })
      sent += 100
    }
    assert.equal(warnings(clientId), 1, `one warning after ${sent} messages`)
    return pub
  }

  function warnings (clientId: string): number {
    return consoleLog(node).split('\n').filter(line => line.includes(warning) && line.includes(`client=${clientId} `)).length
  }

  it('3.1.1: is disconnected past the limit with one warning; the node stays small and serves other clients', async () => {
    const rssAtStart = rss(node)
    const stuck = await rawSubscriber(node, 'stuck4', 'flood/4', 0)
    stuck.socket.pause()
    const pub = await flood('flood/4', 'stuck4')
    assert.ok(rss(node) < rssAtStart + 256 * 1024 * 1024, 'the node did not buffer the flood')
    // the broker closed the connection: reading again gets what was in flight, then the end
    stuck.socket.resume()
    await stuck.waitClosed(10000)
    await pause(QUIET_MS)
    assert.equal(warnings('stuck4'), 1)
    const other = await connect(node.mqttUrl)
    await other.subscribeAsync('still/t')
    const arrived = new Promise<string>(resolve => other.once('message', (_t, p) => resolve(p.toString())))
    await pub.publishAsync('still/t', 'served')
    assert.equal(await arrived, 'served')
    await endAll(other, pub)
  })

  it('5: gets DISCONNECT 0x97 (quota exceeded) behind what was pending when it reads again within the grace time', async () => {
    const stuck = await RawClient5.ready(node.mqttPort, 'stuck5')
    await stuck.subscribe('flood/5', 0)
    stuck.socket.pause()
    const pub = await flood('flood/5', 'stuck5')
    stuck.socket.resume()
    const disconnect = await stuck.next('disconnect', 10000) as { reasonCode?: number }
    assert.equal(disconnect.reasonCode, 0x97)
    await waitFor(() => stuck.closed, 5000, 'the connection closed')
    await endAll(pub)
  })
})

/** The node process' resident memory in bytes (Linux). */
function rss (node: TestNode): number {
  const status = readFileSync(`/proc/${node.proc.pid ?? 0}/status`, 'utf8')
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  return match === null ? 0 : Number(match[1]) * 1024
}
