// Outgoing QoS 1/2 flow per session: retries with DUP, the inflight window (MQTT 5
// receive maximum included) and the online queue with its fifo/lifo drops.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect } from 'node:net'
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { ackUntil, consoleLog, count, fresh, pause, payloads, publishes, QUIET_MS, rawConnect, rawSubscriber, waitFresh } from './helpers/queue.js'

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

  it('a subscriber that sends nothing but PUBACKs keeps its connection past its keep alive: each PUBACK counts', async () => {
    const raw = await rawSubscriber(node, 'acks-only', 'ka/acks', 1, { keepalive: 1 })
    const pub = await connect(node.mqttUrl)
    // 12 rounds of 250 ms: 3 s, twice the 1.5 s a keep alive of 1 allows between two packets
    for (let i = 0; i < 12; i++) {
      await pub.publishAsync('ka/acks', `k${i}`, { qos: 1 })
      await waitFresh(raw, i + 1)
      raw.send({ cmd: 'puback', messageId: fresh(raw)[i].messageId })
      await pause(250)
    }
    assert.equal(raw.closed, false)
    assert.deepEqual(payloads(fresh(raw)), Array.from({ length: 12 }, (_, i) => `k${i}`))
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
    // first sends only (this node resends after 1 s)
    const published = (): IPublishPacket[] => (got.filter(p => p.cmd === 'publish') as IPublishPacket[]).filter(p => !p.dup)
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
  let node: TestNode
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'max_inflight_messages = 2', 'max_online_messages = 5', 'log.console.level = debug'] })
  })
  after(async () => { await node.stop(); node.cleanup() })

  async function queueType (type: string): Promise<void> {
    const set = await node.admin(['set', `queue_type=${type}`])
    assert.equal(set.code, 0, set.stderr)
  }

  it('a subscriber that stops reading: QoS 0 messages beyond what its connection holds plus max_online_messages are dropped and logged, the rest arrive in order', async () => {
    const dropped = (): number => count(consoleLog(node), 'QoS 0 message dropped')
    const before = dropped()
    const raw = await rawSubscriber(node, 'slow-q0', 'slow/q0', 0)
    raw.socket.pause()
    const pub = await connect(node.mqttUrl)
    const total = 400
    const body = Buffer.alloc(64 * 1024, 'x')
    // 25 MiB: more than the loopback socket buffers hold
    for (let i = 0; i < total; i++) await pub.publishAsync('slow/q0', Buffer.concat([Buffer.from(`${String(i).padStart(4, '0')}:`), body]), { qos: 0 })
    await waitFor(() => dropped() - before > 0, 5000, 'drops logged')
    raw.socket.resume()
    await waitFor(() => publishes(raw).length + dropped() - before === total, 15_000, `every message delivered or dropped (got ${publishes(raw).length}, dropped ${dropped() - before})`)
    const got = publishes(raw).map(p => Number(p.payload.toString().slice(0, 4)))
    assert.ok(got.length > 0 && got.length < total, `some delivered, some dropped: ${got.length} of ${total}`)
    assert.deepEqual(got, [...got].sort((a, b) => a - b), 'in publish order')
    raw.close()
    await endAll(pub)
  })

  for (const type of ['fifo', 'lifo'] as const) {
    describe(`queue_type = ${type}`, () => {

      it(`drops ${type === 'fifo' ? 'new messages' : 'the oldest messages'} of any QoS beyond the window and the queue, counts and logs each drop`, async () => {
        await queueType(type)
        const dropsBefore = count(consoleLog(node), 'online queue full')
        const drops = (): number => count(consoleLog(node), 'online queue full') - dropsBefore
        const raw = await rawSubscriber(node, `online-${type}`, 'on/q1', 1)
        raw.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'on/q0', qos: 0 }] })
        await raw.next('suback')
        const pub = await connect(node.mqttUrl)
        // QoS 0 (m0, m3) goes straight out while nothing waits; m1, m2 fill the window;
        // m4..m8 wait (m6 is QoS 0 but keeps its place); m9..m11 overflow. Everything is
        // published at QoS 1 (so it reaches the queue in order); on/q0 delivers at QoS 0.
        for (let i = 0; i < 12; i++) await pub.publishAsync(i % 3 === 0 ? 'on/q0' : 'on/q1', `m${i}`, { qos: 1 })
        await waitFor(() => drops() === 3, 5000, 'three drops logged')
        const expected = type === 'fifo'
          ? ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']
          : ['m0', 'm1', 'm2', 'm3', 'm7', 'm8', 'm9', 'm10', 'm11']
        await ackUntil(raw, expected.length)
        await pause(QUIET_MS)
        assert.deepEqual(payloads(fresh(raw)), expected)
        assert.equal(drops(), 3)
        raw.close()
        await endAll(pub)
      })

      it('applies the window and the online limit to a resumed session\'s stored queue, unless override_max_online_messages', async () => {
        await queueType(type)
        const all = Array.from({ length: 9 }, (_, i) => `s${i}`)
        for (const override of [false, true]) {
          const set = await node.admin(['set', `override_max_online_messages=${override ? 'on' : 'off'}`])
          assert.equal(set.code, 0, set.stderr)
          const clientId = `resumed-${type}-${String(override)}`
          const first = await rawSubscriber(node, clientId, 'stored/t', 1, { clean: false })
          first.close()
          const pub = await connect(node.mqttUrl)
          // QoS 2 publishes are queued before they are acknowledged, so they are stored in order
          for (const payload of all) await pub.publishAsync('stored/t', payload, { qos: 2 })
          const { raw } = await rawConnect(node, clientId, { clean: false })
          const expected = override ? all : type === 'fifo' ? all.slice(0, 7) : [...all.slice(0, 2), ...all.slice(4)]
          await ackUntil(raw, expected.length)
          await pause(QUIET_MS)
          assert.deepEqual(payloads(fresh(raw)), expected)
          raw.close()
          await endAll(pub)
        }
      })
    })
  }
})
