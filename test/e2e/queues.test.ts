// Session and queue options of one node: inflight window, online and offline
// queues, retries, QoS rules, client ids, size/depth/subscription limits,
// timeouts and session balancing. Raw clients (test/e2e/helpers/raw.ts) stand in
// where acknowledgements must be withheld or packets MQTT.js won't send.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import mqttPacket, { type IPublishPacket, type IConnackPacket, type ISubackPacket, type Packet } from 'mqtt-packet'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'

/** How long we watch for something that must NOT happen. */
const QUIET_MS = 600

async function pause (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

async function rawConnect (node: TestNode, clientId: string, extra: Record<string, unknown> = {}): Promise<{ raw: RawClient, connack: IConnackPacket }> {
  const raw = await RawClient.open(node.mqttPort, clientId, extra)
  const connack = await raw.next('connack') as IConnackPacket
  return { raw, connack }
}

async function rawSubscriber (node: TestNode, clientId: string, topic: string, qos: 0 | 1 | 2, extra: Record<string, unknown> = {}): Promise<RawClient> {
  const { raw, connack } = await rawConnect(node, clientId, extra)
  assert.equal(connack.returnCode, 0)
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
  const suback = await raw.next('suback') as ISubackPacket
  assert.deepEqual(suback.granted, [qos])
  return raw
}

function publishes (raw: RawClient): IPublishPacket[] {
  return raw.received('publish') as IPublishPacket[]
}

/** PUBLISHes received for the first time (no retries). */
function fresh (raw: RawClient): IPublishPacket[] {
  return publishes(raw).filter(p => !p.dup)
}

async function waitFresh (raw: RawClient, n: number, timeoutMs = 5000): Promise<IPublishPacket[]> {
  await waitFor(() => fresh(raw).length >= n, timeoutMs, `${n} messages (got ${fresh(raw).length})`)
  return fresh(raw)
}

/** Acknowledges every QoS 1 message as it arrives until `n` messages came. */
async function ackUntil (raw: RawClient, n: number, timeoutMs = 5000): Promise<void> {
  const acked = new Set<IPublishPacket>()
  await waitFor(() => {
    for (const p of fresh(raw)) {
      if (p.qos === 1 && !acked.has(p)) {
        raw.send({ cmd: 'puback', messageId: p.messageId })
        acked.add(p)
      }
    }
    return fresh(raw).length >= n
  }, timeoutMs, `${n} messages (got ${fresh(raw).length})`)
}

function payloads (packets: IPublishPacket[]): string[] {
  return packets.map(p => p.payload.toString())
}

/** The node's log (stdout, where log.console = console sends it). */
function consoleLog (node: TestNode): string {
  return node.stdout
}

function count (text: string, needle: string): number {
  return text.split(needle).length - 1
}

describe('retries and the inflight window (retry_interval = 1, max_inflight_messages = 3)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'retry_interval = 1', 'max_inflight_messages = 3'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('resends an unacknowledged QoS 1 message with DUP after retry_interval, and stops once it is acknowledged', async () => {
    const raw = await rawSubscriber(node, 'retry1', 'retry/1', 1)
    const pub = await connect(node.mqttUrl)
    const sentAt = Date.now()
    await pub.publishAsync('retry/1', 'again', { qos: 1 })
    const [first] = await raw.waitCount('publish', 1) as IPublishPacket[]
    assert.equal(first.dup, false)
    const [, second] = await raw.waitCount('publish', 2, 4000) as IPublishPacket[]
    assert.ok(Date.now() - sentAt >= 900, 'not resent before retry_interval')
    assert.equal(second.dup, true)
    assert.equal(second.messageId, first.messageId)
    assert.equal(second.payload.toString(), 'again')
    raw.send({ cmd: 'puback', messageId: first.messageId })
    const seen = publishes(raw).length
    await pause(1500)
    assert.equal(publishes(raw).length, seen, 'no resend after PUBACK')
    raw.close()
    await endAll(pub)
  })

  it('resends a QoS 2 PUBLISH until PUBREC, then the PUBREL until PUBCOMP (persistent session)', async () => {
    const raw = await rawSubscriber(node, 'retry2', 'retry/2', 2, { clean: false })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('retry/2', 'twice', { qos: 2 })
    const [first, again] = await raw.waitCount('publish', 2, 4000) as IPublishPacket[]
    assert.equal(first.qos, 2)
    assert.equal(again.dup, true)
    assert.equal(again.messageId, first.messageId)
    raw.send({ cmd: 'pubrec', messageId: first.messageId })
    await raw.waitCount('pubrel', 2, 4000)
    raw.send({ cmd: 'pubcomp', messageId: first.messageId })
    const published = publishes(raw).length
    const released = raw.received('pubrel').length
    await pause(1500)
    assert.equal(raw.received('pubrel').length, released, 'no PUBREL after PUBCOMP')
    assert.equal(publishes(raw).length, published, 'no PUBLISH after PUBREC')
    raw.close()
    await endAll(pub)
  })

  it('keeps at most max_inflight_messages unacknowledged; the rest follow in order, one per PUBACK', async () => {
    const raw = await rawSubscriber(node, 'window', 'win/t', 1)
    const pub = await connect(node.mqttUrl)
    for (let i = 0; i < 8; i++) await pub.publishAsync('win/t', `m${i}`, { qos: 1 })
    await waitFresh(raw, 3)
    await pause(QUIET_MS)
    assert.deepEqual(payloads(fresh(raw)), ['m0', 'm1', 'm2'])
    raw.send({ cmd: 'puback', messageId: fresh(raw)[0].messageId })
    await waitFresh(raw, 4)
    await pause(QUIET_MS)
    assert.equal(fresh(raw).length, 4)
    for (let acked = 1; acked < 8; acked++) {
      await waitFresh(raw, Math.min(acked + 3, 8))
      raw.send({ cmd: 'puback', messageId: fresh(raw)[acked].messageId })
    }
    assert.deepEqual(payloads(fresh(raw)), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'])
    raw.close()
    await endAll(pub)
  })
})

describe('MQTT 5 clients (max_inflight_messages = 3)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'max_inflight_messages = 3'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('caps the window at the receive maximum the client sets, and delivers QoS 1 and 2', async () => {
    const socket = netConnect(node.mqttPort, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const got: Packet[] = []
    const parser = mqttPacket.parser({ protocolVersion: 5 })
    parser.on('packet', p => got.push(p))
    socket.on('data', d => parser.parse(d))
    const send = (p: Packet): void => { socket.write(mqttPacket.generate(p, { protocolVersion: 5 })) }
    send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'v5', keepalive: 60, properties: { receiveMaximum: 2 } })
    send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'v5/#', qos: 2 }] })
    await waitFor(() => got.some(p => p.cmd === 'suback'), 5000, 'SUBACK')
    const pub = await connect(node.mqttUrl, { protocolVersion: 5 })
    for (let i = 0; i < 4; i++) await pub.publishAsync('v5/t', `m${i}`, { qos: i < 2 ? 1 : 2 })
    const published = (): IPublishPacket[] => got.filter(p => p.cmd === 'publish') as IPublishPacket[]
    await waitFor(() => published().length === 2, 5000, 'two messages')
    await pause(QUIET_MS)
    assert.equal(published().length, 2)
    send({ cmd: 'puback', messageId: published()[0].messageId, reasonCode: 0 })
    send({ cmd: 'puback', messageId: published()[1].messageId, reasonCode: 0 })
    await waitFor(() => published().length === 4, 5000, 'the other two')
    assert.deepEqual(published().map(p => [p.payload.toString(), p.qos]), [['m0', 1], ['m1', 1], ['m2', 2], ['m3', 2]])
    socket.destroy()
    await endAll(pub)
  })
})

describe('the online queue (max_inflight_messages = 2, max_online_messages = 5)', () => {
  for (const type of ['fifo', 'lifo'] as const) {
    describe(`queue_type = ${type}`, () => {
      let node: TestNode
      before(async () => {
        node = await startNode({ conf: [...OPEN_ACCESS, 'max_inflight_messages = 2', 'max_online_messages = 5', `queue_type = ${type}`, 'log.console.level = debug'] })
      })
      after(async () => { await node.stop(); node.cleanup() })

      it(`drops ${type === 'fifo' ? 'new messages' : 'the oldest messages'} of any QoS beyond the window and the queue, counts and logs each drop`, async () => {
        const raw = await rawSubscriber(node, `online-${type}`, 'on/q1', 1)
        raw.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'on/q0', qos: 0 }] })
        await raw.next('suback')
        const pub = await connect(node.mqttUrl)
        // QoS 0 (m0, m3) goes straight out while nothing waits; m1, m2 fill the window;
        // m4..m8 wait (m6 is QoS 0 but keeps its place); m9..m11 overflow. Everything is
        // published at QoS 1 (so it reaches the queue in order); on/q0 delivers at QoS 0.
        for (let i = 0; i < 12; i++) await pub.publishAsync(i % 3 === 0 ? 'on/q0' : 'on/q1', `m${i}`, { qos: 1 })
        await waitFor(() => count(consoleLog(node), 'online queue full') === 3, 5000, 'three drops logged')
        const expected = type === 'fifo'
          ? ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']
          : ['m0', 'm1', 'm2', 'm3', 'm7', 'm8', 'm9', 'm10', 'm11']
        await ackUntil(raw, expected.length)
        await pause(QUIET_MS)
        assert.deepEqual(payloads(fresh(raw)), expected)
        assert.equal(count(consoleLog(node), 'online queue full'), 3)
        raw.close()
        await endAll(pub)
      })
    })
  }
})

/** Connects with MQTT.js, collecting messages from the first one on. */
async function connectCollecting (url: string, opts: IClientOptions): Promise<{ client: MqttClient, got: Received[], sessionPresent: boolean }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  const got = collect(client)
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', err => { client.end(true); reject(err) })
  })
  return { client, got, sessionPresent: connack.sessionPresent }
}

describe('persistent sessions (max_offline_messages = 3)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'max_offline_messages = 3', 'log.console.level = debug'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('stores up to max_offline_messages QoS 1/2 messages (never QoS 0) and delivers them in order on reconnect', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'offline1', clean: false })
    await first.subscribeAsync('off/t', { qos: 2 })
    await first.endAsync()
    const pub = await connect(node.mqttUrl)
    // QoS 2 and 0 only: aedes acknowledges a QoS 1 PUBLISH before queueing it, so the
    // publisher's next message may be queued first (QoS 1 storage is covered below)
    const sent: Array<[string, 0 | 1 | 2]> = [['m0', 2], ['m1', 0], ['m2', 2], ['m3', 2], ['m4', 2], ['m5', 2]]
    for (const [payload, qos] of sent) await pub.publishAsync('off/t', payload, { qos })
    await waitFor(() => count(consoleLog(node), 'offline queue full') === 2, 5000, 'two offline drops logged')
    const { raw, connack } = await rawConnect(node, 'offline1', { clean: false })
    assert.equal(connack.sessionPresent, true)
    await raw.waitCount('publish', 3)
    await pause(QUIET_MS)
    assert.deepEqual(publishes(raw).map(p => [p.payload.toString(), p.qos]), [['m0', 2], ['m2', 2], ['m3', 2]])
    raw.close()
    await endAll(pub)
  })

  it('resends what was unacknowledged at disconnect with DUP and the same packet id, then the rest', async () => {
    const raw = await rawSubscriber(node, 'resume1', 'resume/t', 1, { clean: false })
    const pub = await connect(node.mqttUrl)
    for (const payload of ['a', 'b']) await pub.publishAsync('resume/t', payload, { qos: 1 })
    const sent = await raw.waitCount('publish', 2) as IPublishPacket[]
    raw.close()
    await pub.publishAsync('resume/t', 'c', { qos: 1 })
    const { raw: again, connack } = await rawConnect(node, 'resume1', { clean: false })
    assert.equal(connack.sessionPresent, true)
    const resent = await again.waitCount('publish', 3) as IPublishPacket[]
    assert.deepEqual(resent.map(p => [p.payload.toString(), p.dup, p.messageId]), [
      ['a', true, sent[0].messageId], ['b', true, sent[1].messageId], ['c', false, resent[2].messageId]
    ])
    for (const p of resent) again.send({ cmd: 'puback', messageId: p.messageId })
    again.close()
    const { raw: third } = await rawConnect(node, 'resume1', { clean: false })
    await pause(QUIET_MS)
    assert.equal(third.received('publish').length, 0, 'acknowledged messages are gone')
    third.close()
    await endAll(pub)
  })

  it('sends a PUBREL again when a session reconnects between PUBREC and PUBCOMP', async () => {
    const raw = await rawSubscriber(node, 'resume2', 'resume2/t', 2, { clean: false })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('resume2/t', 'x', { qos: 2 })
    const [p] = await raw.waitCount('publish', 1) as IPublishPacket[]
    raw.send({ cmd: 'pubrec', messageId: p.messageId })
    await raw.next('pubrel')
    raw.close()
    const { raw: again } = await rawConnect(node, 'resume2', { clean: false })
    const rel = await again.next('pubrel')
    assert.equal(rel.messageId, p.messageId)
    await pause(QUIET_MS)
    assert.equal(again.received('publish').length, 0)
    again.send({ cmd: 'pubcomp', messageId: p.messageId })
    again.close()
    await endAll(pub)
  })

  it('refuses an empty client id without clean session (CONNACK 2) and on MQTT 3.1; assigns one with clean session', async () => {
    // MQTT 3.1.1 CONNECT, clean session 0, keepalive 60, empty client id (mqtt-packet will not encode it)
    const persistent = await RawClient.openWithBytes(node.mqttPort, Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 60, 0, 0]))
    const refused = await persistent.next('connack') as IConnackPacket
    assert.equal(refused.returnCode, 2)
    await persistent.waitClosed()
    // MQTT 3.1 CONNECT ("MQIsdp", level 3), clean session, keepalive 60, empty client id
    const v31 = await RawClient.openWithBytes(node.mqttPort, Buffer.from([0x10, 14, 0, 6, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 3, 2, 0, 60, 0, 0]))
    const refused31 = await v31.next('connack') as IConnackPacket
    assert.equal(refused31.returnCode, 2)
    v31.close()
    const { raw: anonymous, connack: accepted } = await rawConnect(node, '', { clean: true })
    assert.equal(accepted.returnCode, 0)
    anonymous.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'noid/t', qos: 1 }] })
    await anonymous.next('suback')
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('noid/t', 'to an assigned id', { qos: 1 })
    const [got] = await anonymous.waitCount('publish', 1) as IPublishPacket[]
    assert.equal(got.payload.toString(), 'to an assigned id')
    anonymous.close()
    await endAll(pub)
  })

  it('delivers at min(subscription QoS, publish QoS), wildcard filters included; overlapping filters give the highest', async () => {
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('min/one/#', { qos: 1 })
    await sub.subscribeAsync('min/zero/+', { qos: 0 })
    await sub.subscribeAsync('min/both/+', { qos: 0 })
    await sub.subscribeAsync('min/both/#', { qos: 2 })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('min/one/x', 'a', { qos: 2 })
    await pub.publishAsync('min/zero/x', 'b', { qos: 2 })
    await pub.publishAsync('min/one/y', 'c', { qos: 0 })
    await pub.publishAsync('min/both/x', 'd', { qos: 2 })
    await waitFor(() => got.length === 4, 5000, 'four messages')
    await pause(QUIET_MS)
    assert.deepEqual(got.map(m => [m.payload, m.qos]).sort(), [['a', 1], ['b', 0], ['c', 0], ['d', 2]])
    await endAll(sub, pub)
  })

  it('delivers retained messages at min(subscription QoS, stored QoS)', async () => {
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('rq/two', 'stored at 2', { qos: 2, retain: true })
    await pub.publishAsync('rq/zero', 'stored at 0', { qos: 0, retain: true })
    const raw = await rawSubscriber(node, 'retained-qos', 'rq/+', 1)
    const got = await raw.waitCount('publish', 2) as IPublishPacket[]
    assert.deepEqual(got.map(p => [p.payload.toString(), p.qos, p.retain]).sort(), [['stored at 0', 0, true], ['stored at 2', 1, true]])
    raw.close()
    await endAll(pub)
  })

  it('with allow_multiple_sessions = off a second connection with the same client id takes over the first', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'twice' })
    const closed = new Promise<void>(resolve => first.once('close', () => resolve()))
    const second = await connect(node.mqttUrl, { clientId: 'twice' })
    await closed
    assert.equal(second.connected, true)
    await endAll(first, second)
  })

  it('disconnects a client silent for 1.5 x its keepalive, not one that pings', async () => {
    const { raw: silent } = await rawConnect(node, 'silent', { keepalive: 1 })
    const { raw: pinging } = await rawConnect(node, 'pinging', { keepalive: 1 })
    const start = Date.now()
    const pings = setInterval(() => { pinging.send({ cmd: 'pingreq' }) }, 400)
    await silent.waitClosed(5000)
    const elapsed = Date.now() - start
    assert.ok(elapsed >= 1300, `closed after ${elapsed} ms, expected about 1500`)
    await pause(1500)
    clearInterval(pings)
    assert.equal(pinging.closed, false)
    pinging.close()
  })
})

describe('limits (max_message_size = 1KB, topic_max_depth = 3, max_subscriptions_per_client = 2, mqtt_connect_timeout = 500)', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'max_message_size = 1KB', 'topic_max_depth = 3', 'max_subscriptions_per_client = 2', 'mqtt_connect_timeout = 500'] })
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('closes the connection of a client publishing more than max_message_size; others are not affected; settable at runtime', async () => {
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('size/t', { qos: 1 })
    const big = await connect(node.mqttUrl)
    const closed = new Promise<void>(resolve => big.once('close', () => resolve()))
    await big.publishAsync('size/t', Buffer.alloc(1024, 'a'), { qos: 1 })
    big.publish('size/t', Buffer.alloc(1025, 'b'), { qos: 1 })
    await closed
    const other = await connect(node.mqttUrl)
    await other.publishAsync('size/t', 'after', { qos: 1 })
    await waitFor(() => got.length === 2, 5000, 'the accepted messages')
    assert.deepEqual(got.map(m => m.payload.length), [1024, 5])
    assert.equal(sub.connected, true)

    const set = await node.admin(['set', 'message_size_limit=100'])
    assert.equal(set.code, 0, set.stderr)
    const small = await connect(node.mqttUrl)
    const smallClosed = new Promise<void>(resolve => small.once('close', () => resolve()))
    small.publish('size/t', Buffer.alloc(200, 'c'), { qos: 0 })
    await smallClosed
    await endAll(sub, big, other, small)
  })

  it('disconnects a client that publishes or subscribes to a topic deeper than topic_max_depth', async () => {
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('d1/d2/d3', { qos: 0 })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('d1/d2/d3', 'three levels')
    await waitFor(() => got.length === 1, 5000, 'the three-level message')
    const closed = new Promise<void>(resolve => pub.once('close', () => resolve()))
    pub.publish('d1/d2/d3/d4', 'four levels')
    await closed
    const deep = await connect(node.mqttUrl)
    const deepClosed = new Promise<void>(resolve => deep.once('close', () => resolve()))
    deep.subscribe('a/b/c/#')
    await deepClosed
    await endAll(sub, pub, deep)
  })

  it('refuses filters beyond max_subscriptions_per_client (0x80); replacing a filter is allowed', async () => {
    const { raw } = await rawConnect(node, 'subs-limit')
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 's/1', qos: 0 }, { topic: 's/2', qos: 0 }, { topic: 's/3', qos: 0 }] })
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [0, 0, 0x80])
    raw.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 's/1', qos: 1 }] })
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [1])
    raw.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['s/2'] })
    await raw.next('unsuback')
    raw.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 's/3', qos: 0 }] })
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [0])
    raw.close()
  })

  it('closes a connection that sends no CONNECT within mqtt_connect_timeout', async () => {
    const socket = netConnect(node.mqttPort, '127.0.0.1')
    const opened = Date.now()
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    await new Promise<void>(resolve => socket.once('close', () => resolve()))
    const elapsed = Date.now() - opened
    assert.ok(elapsed >= 450 && elapsed < 4000, `closed after ${elapsed} ms`)
  })
})

describe('upgrade_outgoing_qos = on', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'upgrade_outgoing_qos = on'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('delivers at the subscription QoS, live and retained', async () => {
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('up/retained', 'kept at 0', { qos: 0, retain: true })
    const raw = await rawSubscriber(node, 'upgraded', 'up/#', 2)
    await pub.publishAsync('up/zero', 'sent at 0', { qos: 0 })
    await pub.publishAsync('up/one', 'sent at 1', { qos: 1 })
    const got = await raw.waitCount('publish', 3) as IPublishPacket[]
    assert.deepEqual(got.map(p => [p.payload.toString(), p.qos]), [['kept at 0', 2], ['sent at 0', 2], ['sent at 1', 2]])
    raw.close()
    await endAll(pub)
  })
})

describe('persistent_client_expiration = 2s', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'persistent_client_expiration = 2s'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('deletes a persistent session offline for longer, with its queue', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'expiring', clean: false })
    await first.subscribeAsync('exp/t', { qos: 1 })
    await first.endAsync()
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('exp/t', 'for nobody', { qos: 1 })
    await waitFor(() => consoleLog(node).includes('persistent session expired'), 10000, 'the expiration')
    assert.match(consoleLog(node), /persistent session expired.*client=expiring/)
    const { client, got, sessionPresent } = await connectCollecting(node.mqttUrl, { clientId: 'expiring', clean: false })
    assert.equal(sessionPresent, false)
    await pub.publishAsync('exp/t', 'not subscribed any more', { qos: 1 })
    await pause(QUIET_MS)
    assert.deepEqual(got, [])
    await endAll(client, pub)
  })
})

describe('allow_multiple_sessions = on', () => {
  for (const mode of ['balance', 'fanout'] as const) {
    describe(`queue_deliver_mode = ${mode}`, () => {
      let node: TestNode
      before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'allow_multiple_sessions = on', `queue_deliver_mode = ${mode}`] }) })
      after(async () => { await node.stop(); node.cleanup() })

      it(`gives each of 300 messages to ${mode === 'balance' ? 'one of' : 'each of'} three connections sharing a client id`, async () => {
        const consumers: MqttClient[] = []
        const received: Received[][] = []
        for (let i = 0; i < 3; i++) {
          const c = await connect(node.mqttUrl, { clientId: `shared-${mode}` })
          received.push(collect(c))
          await c.subscribeAsync(`${mode}/t`, { qos: 1 })
          consumers.push(c)
        }
        const pub = await connect(node.mqttUrl)
        for (let i = 0; i < 300; i++) await pub.publishAsync(`${mode}/t`, `m${i}`, { qos: 1 })
        const expected = mode === 'balance' ? 300 : 900
        await waitFor(() => received.flat().length >= expected, 15000, `${expected} deliveries (got ${received.flat().length})`)
        await pause(QUIET_MS)
        assert.equal(received.flat().length, expected)
        assert.ok(consumers.every(c => c.connected), 'no connection was taken over')
        if (mode === 'balance') {
          assert.equal(new Set(received.flat().map(m => m.payload)).size, 300)
          for (const got of received) assert.ok(got.length > 0, 'every connection gets some')
        } else {
          for (const got of received) assert.deepEqual(got.map(m => m.payload), Array.from({ length: 300 }, (_, i) => `m${i}`))
        }
        await endAll(pub, ...consumers)
      })

      if (mode === 'balance') {
        it('hands the unacknowledged messages of a departing connection to the others', async () => {
          const holder = await rawSubscriber(node, 'departing', 'dep/t', 1)
          const acker = await rawSubscriber(node, 'departing', 'dep/t', 1)
          const pub = await connect(node.mqttUrl)
          for (let i = 0; i < 10; i++) await pub.publishAsync('dep/t', `m${i}`, { qos: 1 })
          await waitFor(() => fresh(holder).length + fresh(acker).length >= 10, 5000, 'ten deliveries')
          const held = payloads(fresh(holder))
          assert.ok(held.length > 0 && held.length < 10, `the holder got ${held.length}`)
          for (const p of fresh(acker)) acker.send({ cmd: 'puback', messageId: p.messageId })
          holder.close()
          await ackUntil(acker, 10)
          assert.deepEqual(payloads(fresh(acker)).sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort())
          acker.close()
          await endAll(pub)
        })
      }
    })
  }
})
