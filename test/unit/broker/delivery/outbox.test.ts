// One connection's outbox driven with a fake writer and a fake clock: what it
// writes, when, and what it drops and counts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { OutPacket } from '../../../../src/broker/delivery/out-packet.js'
import { harness, message, settle } from './fakes.js'

function forwardAll (h: ReturnType<typeof harness>, packets: OutPacket[]): void {
  for (const packet of packets) assert.equal(h.session.forward(packet), null, `${packet.topic} is written or queued by the outbox`)
}

function numbered (n: number, qos: number): OutPacket[] {
  return Array.from({ length: n }, (_, i) => message(`t/${i + 1}`, qos))
}

test('the window is max_inflight_messages, or the MQTT 5 client\'s Receive Maximum (and receive_max_client) when smaller', () => {
  const cases = [
    { client: { version: 4 }, settings: { maxInflight: 3 }, window: 3 },
    { client: { version: 5, receiveMaximum: 2 }, settings: { maxInflight: 3 }, window: 2 },
    { client: { version: 5, receiveMaximum: 10 }, settings: { maxInflight: 3 }, window: 3 },
    { client: { version: 5, receiveMaximum: 10 }, settings: { maxInflight: 0, receiveMaxClient: 4 }, window: 4 },
    { client: { version: 5, receiveMaximum: 0 }, settings: { maxInflight: 5 }, window: 5 }
  ]
  for (const c of cases) {
    const h = harness(c.client, c.settings)
    forwardAll(h, numbered(6, 1))
    const label = JSON.stringify(c)
    assert.deepEqual(h.session.counts, { inflight: c.window, waiting: 6 - c.window }, label)
    assert.deepEqual(h.writer.take(), Array.from({ length: c.window }, (_, i) => `publish t/${i + 1} q1 id${i + 1}`), label)
    assert.equal(h.counters.publishSent, c.window, label)
  }
})

test('acknowledgements release the window: waiting messages go out in order, one per freed slot', async () => {
  const h = harness({}, { maxInflight: 2 })
  forwardAll(h, numbered(5, 1))
  assert.deepEqual(h.writer.take(), ['publish t/1 q1 id1', 'publish t/2 q1 id2'])
  h.session.acked(2)
  await settle()
  assert.deepEqual(h.writer.take(), ['publish t/3 q1 id3'], 'the PUBACK of the second frees a slot for the third')
  h.session.acked(99)
  h.session.acked(2)
  await settle()
  assert.deepEqual(h.writer.take(), [], 'an unknown or repeated packet id frees nothing')
  h.session.acked(1)
  await settle()
  assert.deepEqual(h.writer.take(), ['publish t/4 q1 id4'])
  h.session.acked(3)
  h.session.acked(4)
  await settle()
  assert.deepEqual(h.writer.take(), ['publish t/5 q1 id5'])
  assert.deepEqual(h.session.counts, { inflight: 1, waiting: 0 })
})

test('a window refilled by acknowledgements and full again is flushed at once; one with room left waits for the turn', async () => {
  const h = harness({}, { maxInflight: 2 })
  forwardAll(h, numbered(3, 1))
  h.writer.take()
  assert.equal(h.writer.flushes, 0, 'messages of a publish wait for the end of the turn')
  h.session.acked(1)
  await settle()
  assert.deepEqual(h.writer.take(), ['publish t/3 q1 id3'])
  assert.equal(h.writer.flushes, 1, 'the refill fills the window: nothing else goes to this client before its next PUBACK')
  h.session.acked(2)
  await settle()
  assert.deepEqual(h.writer.take(), [])
  assert.equal(h.writer.flushes, 1, 'nothing waiting: no refill, no flush')
  forwardAll(h, [message('t/4', 1), message('t/5', 1)])
  assert.deepEqual(h.writer.take(), ['publish t/4 q1 id4'])
  h.session.acked(3)
  h.session.acked(4)
  await settle()
  assert.deepEqual(h.writer.take(), ['publish t/5 q1 id5'])
  assert.equal(h.writer.flushes, 1, 'a refill that leaves room: more may come this turn, it waits')
})

test('QoS 1: an unacknowledged PUBLISH is sent again with DUP every retry_interval until its PUBACK', () => {
  const h = harness({}, { retryMs: 1000 })
  forwardAll(h, [message('t/a', 1)])
  h.clock.advance(400)
  forwardAll(h, [message('t/b', 1)])
  assert.deepEqual(h.writer.take(), ['publish t/a q1 id1', 'publish t/b q1 id2'])
  h.clock.advance(599)
  assert.deepEqual(h.writer.take(), [], 'nothing before the interval')
  h.clock.advance(1)
  assert.deepEqual(h.writer.take(), ['publish t/a q1 id1 dup (retry)'])
  h.clock.advance(400)
  assert.deepEqual(h.writer.take(), ['publish t/b q1 id2 dup (retry)'], 'each one a full interval after it was sent')
  h.session.acked(1)
  h.clock.advance(999)
  assert.deepEqual(h.writer.take(), [], 'the acknowledged one is not sent again')
  h.clock.advance(1)
  assert.deepEqual(h.writer.take(), ['publish t/b q1 id2 dup (retry)'], 'a full interval after its last resend')
  assert.equal(h.counters.retried, 3)
  h.session.acked(2)
  h.clock.advance(10_000)
  assert.deepEqual(h.writer.take(), [])
  assert.equal(h.counters.publishSent, 2, 'resends are counted as retries, not as sent')
})

test('QoS 2: after PUBREC the retry is the PUBREL, a full retry_interval after the PUBREC; PUBCOMP ends it', () => {
  const h = harness({}, { retryMs: 1000 })
  forwardAll(h, [message('t/q2', 2)])
  assert.deepEqual(h.writer.take(), ['publish t/q2 q2 id1'])
  h.clock.advance(600)
  h.session.pubrecReceived(1, undefined)
  h.clock.advance(999)
  assert.deepEqual(h.writer.take(), [], 'the PUBREC restarted the interval')
  h.clock.advance(1)
  assert.deepEqual(h.writer.take(), ['pubrel id1'])
  h.clock.advance(1000)
  assert.deepEqual(h.writer.take(), ['pubrel id1'])
  h.session.acked(1)
  h.clock.advance(5000)
  assert.deepEqual(h.writer.take(), [])
  assert.deepEqual(h.session.counts, { inflight: 0, waiting: 0 })
})

test('MQTT 5: a PUBREC with an error reason ends the exchange: no PUBREL, the slot is free', async () => {
  const h = harness({ version: 5 }, { retryMs: 1000, maxInflight: 1 })
  forwardAll(h, [message('t/x', 2), message('t/y', 2)])
  h.session.pubrecReceived(1, 0x80)
  await settle()
  h.clock.advance(999)
  assert.deepEqual(h.writer.take(), ['publish t/x q2 id1', 'publish t/y q2 id2'])
  h.clock.advance(1)
  assert.deepEqual(h.writer.take(), ['publish t/y q2 id2 dup (retry)'])
})

test('max_online_messages: a full online queue drops the new message (fifo) or the oldest (lifo), counts it, warns once', async () => {
  for (const lifo of [false, true]) {
    const h = harness({}, { maxInflight: 1, maxOnline: 2, lifo })
    forwardAll(h, numbered(5, 1))
    assert.deepEqual(h.session.counts, { inflight: 1, waiting: 2 })
    assert.equal(h.counters.onlineDropped, 2)
    assert.deepEqual(h.log.map(l => [l.level, l.fields.topic]), lifo ? [['warn', 't/2'], ['debug', 't/3']] : [['warn', 't/4'], ['debug', 't/5']])
    assert.match(h.log[0].message, /^message dropped: online queue full \(max_online_messages\); further drops for this connection are counted/)
    for (let id = 1; id <= 3; id++) {
      h.session.acked(id)
      await settle()
    }
    const expected = lifo ? ['t/1', 't/4', 't/5'] : ['t/1', 't/2', 't/3']
    assert.deepEqual(h.writer.take(), expected.map((topic, i) => `publish ${topic} q1 id${i + 1}`), `lifo=${String(lifo)}`)
    assert.deepEqual(h.forgotten, [], 'a clean session has no stored copies')
  }
})

test('max_online_messages: a persistent session deletes the stored copy of what it drops; -1 is no limit', () => {
  const persistent = harness({ clean: false }, { maxInflight: 1, maxOnline: 1 })
  forwardAll(persistent, numbered(4, 1))
  assert.deepEqual(persistent.forgotten, ['t/3', 't/4'])
  assert.equal(persistent.counters.onlineDropped, 2)

  const unlimited = harness({}, { maxInflight: 1, maxOnline: -1 })
  forwardAll(unlimited, numbered(50, 1))
  assert.deepEqual(unlimited.session.counts, { inflight: 1, waiting: 49 })
  assert.equal(unlimited.counters.onlineDropped, 0)
})

/** Messages t/1..t/n of `bytes` payload bytes: each holds bytes + 3 in the online queue (payload and topic). */
function sized (n: number, qos: number, bytes: number): OutPacket[] {
  return Array.from({ length: n }, (_, i) => message(`t/${i + 1}`, qos, { payload: Buffer.alloc(bytes) }))
}

test('outgoing_buffer_limit bounds the online queue\'s bytes with max_online_messages = -1: fifo drops the new message, lifo the oldest, counted and logged like a full queue', async () => {
  for (const lifo of [false, true]) {
    const label = `lifo=${String(lifo)}`
    // 3 messages of 303 bytes fit in 1000, a 4th would pass it
    const h = harness({}, { maxInflight: 1, maxOnline: -1, outgoingBufferLimit: 1000, lifo })
    forwardAll(h, sized(6, 1, 300))
    assert.deepEqual(h.session.counts, { inflight: 1, waiting: 3 }, label)
    assert.equal(h.counters.onlineDropped, 2, label)
    assert.deepEqual(h.log.map(l => [l.level, l.fields.topic]), lifo ? [['warn', 't/2'], ['debug', 't/3']] : [['warn', 't/5'], ['debug', 't/6']], label)
    assert.match(h.log[0].message, /^message dropped: online queue full \(outgoing_buffer_limit\); further drops for this connection are counted \(queue_message_drop\)/, label)
    for (let id = 1; id <= 4; id++) {
      h.session.acked(id)
      await settle()
    }
    const expected = lifo ? ['t/1', 't/4', 't/5', 't/6'] : ['t/1', 't/2', 't/3', 't/4']
    assert.deepEqual(h.writer.take(), expected.map((topic, i) => `publish ${topic} q1 id${i + 1}`), label)
    forwardAll(h, sized(3, 1, 300).map(p => ({ ...p, topic: `t/again${p.topic}` })))
    assert.equal(h.counters.onlineDropped, 2, `${label}: what went out made room again`)
  }
})

test('outgoing_buffer_limit: bytes pending on the connection count against the queue; 0 is no limit; a persistent session deletes the stored copy of what it drops', () => {
  const pending = harness({}, { maxInflight: 1, maxOnline: -1, outgoingBufferLimit: 1000 })
  forwardAll(pending, sized(1, 1, 300))
  pending.writer.pending = 400
  forwardAll(pending, sized(4, 1, 300).map(p => ({ ...p, topic: `t/x${p.topic.slice(2)}` })))
  assert.deepEqual(pending.session.counts, { inflight: 1, waiting: 1 }, '400 pending + 303 queued leave no room for another 303')
  assert.equal(pending.counters.onlineDropped, 3)

  const unlimited = harness({}, { maxInflight: 1, maxOnline: -1, outgoingBufferLimit: 0 })
  unlimited.writer.pending = 1 << 30
  forwardAll(unlimited, sized(50, 1, 1000))
  assert.deepEqual(unlimited.session.counts, { inflight: 1, waiting: 49 })
  assert.equal(unlimited.counters.onlineDropped, 0)

  const persistent = harness({ clean: false }, { maxInflight: 1, maxOnline: 1000, outgoingBufferLimit: 1000 })
  forwardAll(persistent, sized(6, 1, 300))
  assert.deepEqual(persistent.forgotten, ['t/5', 't/6'])
  assert.deepEqual(persistent.log.map(l => l.message.split(';')[0]), [
    'message dropped: online queue full (outgoing_buffer_limit)',
    'message dropped: online queue full (outgoing_buffer_limit)'
  ])
})

test('resume: a stored queue larger than outgoing_buffer_limit is cut to it by queue_type, and the stored copies of the dropped messages are deleted', async () => {
  for (const lifo of [false, true]) {
    const h = harness({ clean: false }, { maxInflight: 1, maxOnline: -1, outgoingBufferLimit: 1000, lifo })
    h.session.resume = true
    h.session.loading = true
    await h.session.loadStored((async function * () { yield * sized(6, 1, 300) })())
    assert.deepEqual(h.session.counts, { inflight: 1, waiting: 3 })
    assert.deepEqual(h.forgotten, lifo ? ['t/2', 't/3'] : ['t/6', 't/5'], `lifo=${String(lifo)}`)
    assert.equal(h.counters.onlineDropped, 2)
  }
})

test('MQTT 5 Maximum Packet Size: a larger PUBLISH is not sent, it is counted and the next one goes', () => {
  const h = harness({ version: 5, maximumPacketSize: 64 })
  assert.equal(h.session.forward(message('t/big', 1, { payload: Buffer.alloc(100) })), null)
  assert.equal(h.session.forward(message('t/big0', 0, { payload: Buffer.alloc(100) })), null)
  forwardAll(h, [message('t/small', 1), message('t/small0', 0)])
  assert.deepEqual(h.writer.take(), ['publish t/small q1 id1', 'publish t/small0 q0'], 'the dropped one took no packet id')
  assert.equal(h.counters.tooLargeForClient, 2)
  assert.equal(h.counters.publishSent, 2)
  assert.deepEqual(h.log.filter(l => l.level === 'debug').map(l => [l.fields.topic, l.fields.max, l.message]), [
    ['t/big', 64, 'message dropped: larger than the maximum packet size the client accepts'],
    ['t/big0', 64, 'message dropped: larger than the maximum packet size the client accepts']
  ])
})

test('a message whose expiry interval passes while it waits is dropped and counted; one still valid goes with the interval left', async () => {
  const h = harness({ version: 5 }, { maxInflight: 1 })
  forwardAll(h, [
    message('t/1', 1),
    message('t/old', 1, { messageExpiry: h.clock.time + 1000 }),
    message('t/new', 1, { messageExpiry: h.clock.time + 10_000 })
  ])
  h.clock.advance(2500)
  h.session.acked(1)
  await settle()
  assert.deepEqual(h.writer.take(), ['publish t/1 q1 id1', 'publish t/new q1 id2'])
  assert.equal(h.counters.messagesExpired, 1)
  h.session.acked(2)
  assert.equal(h.session.counts.inflight, 0)
})

test('resume: stored PUBRELs go again at once, stored messages ahead of live ones, DUP and the old packet id for what was sent, expired and too large ones dropped', async () => {
  const h = harness({ version: 5, clean: false, maximumPacketSize: 200 })
  h.session.resume = true
  h.session.loading = true
  const sent = message('t/sent', 1, { messageId: 7 })
  const fresh = message('t/fresh', 1)
  const later = message('t/later', 1, { messageExpiry: h.clock.time + 5000 })
  // live while the stored queue is read: a copy of a stored message, and a new one
  forwardAll(h, [{ ...fresh, messageId: undefined }, message('t/live', 1)])
  assert.deepEqual(h.writer.take(), [], 'nothing goes out while loading')
  const stored: OutPacket[] = [
    { cmd: 'pubrel', topic: '', payload: Buffer.alloc(0), qos: 2, retain: false, messageId: 9 },
    message('t/expired', 1, { messageExpiry: h.clock.time - 1, messageId: 3 }),
    sent,
    fresh,
    message('t/large', 1, { payload: Buffer.alloc(300) }),
    later
  ]
  await h.session.loadStored((async function * () { yield * stored })())
  assert.deepEqual(h.writer.take(), [
    'pubrel id9',
    'publish t/sent q1 id7 dup',
    'publish t/fresh q1 id1',
    'publish t/later q1 id2',
    'publish t/live q1 id3'
  ])
  assert.equal(h.writer.packets.get('t/later')?.properties?.messageExpiryInterval, 5, 'the interval left')
  assert.equal(h.session.loading, false)
  assert.equal(h.counters.messagesExpired, 1)
  assert.equal(h.counters.tooLargeForClient, 1)
  assert.deepEqual(h.forgotten, ['t/expired', 't/large'], 'their stored copies are deleted')

  // aedes may still emit a live copy of a stored message after the queue was read
  assert.equal(h.session.forward({ ...later, messageId: undefined, properties: undefined }), null)
  assert.deepEqual(h.writer.take(), [], 'a late live copy of a loaded message is skipped')
  h.clock.advance(10_000)
  forwardAll(h, [{ ...sent, messageId: undefined, dup: false }])
  assert.deepEqual(h.writer.take(), ['publish t/sent q1 id4'], 'origins are forgotten after RECENT_MS')
})

test('resume: a stored queue that cannot be read is logged, and what was read goes out', async () => {
  const h = harness({ clean: false })
  h.session.resume = true
  h.session.loading = true
  const first = message('t/first', 1)
  await h.session.loadStored((async function * () {
    yield first
    throw new Error('disk gone')
  })())
  assert.deepEqual(h.writer.take(), ['publish t/first q1 id1'])
  assert.deepEqual(h.log.map(l => [l.level, l.message, l.fields.err]), [['warn', 'cannot read the stored queue of a resumed session', 'disk gone']])
})

test('a connection closed for not reading gets nothing more; what waits stays', async () => {
  const h = harness({}, { maxInflight: 1 })
  forwardAll(h, numbered(2, 1))
  h.writer.slow = true
  assert.equal(h.session.forward(message('t/3', 1)), null)
  h.session.acked(1)
  await settle()
  assert.deepEqual(h.writer.take(), ['publish t/1 q1 id1'])
  assert.deepEqual(h.session.counts, { inflight: 0, waiting: 1 })
})

test('close returns what was in flight and what waited, oldest first, and stops every timer', () => {
  const h = harness({}, { maxInflight: 2, retryMs: 1000 })
  forwardAll(h, numbered(3, 1))
  assert.ok(h.clock.pending > 0)
  const left = h.session.close()
  assert.deepEqual(left.map(e => [e.packet.topic, e.messageId]), [['t/1', 1], ['t/2', 2], ['t/3', 0]])
  assert.equal(h.writer.closed, true)
  h.clock.advance(5000)
  assert.deepEqual(h.writer.take(), ['publish t/1 q1 id1', 'publish t/2 q1 id2'], 'no retry after close')
})

test('QoS 0: written at once, or handed back to aedes when the writer cannot write it, or dropped under back-pressure', () => {
  const h = harness()
  assert.equal(h.session.forward(message('t/a', 0)), null)
  assert.deepEqual(h.writer.take(), ['publish t/a q0'])
  h.writer.qos0Result = 'not-here'
  const packet = message('t/b', 0)
  assert.equal(h.session.forward(packet), packet)
  h.writer.qos0Result = 'dropped'
  assert.equal(h.session.forward(message('t/c', 0)), null)
  assert.equal(h.counters.onlineDropped, 1)
  assert.equal(h.counters.publishSent, 1)
})

test('acked tells whether aedes has nothing to do for the PUBACK: a QoS 1 message the writer wrote itself', () => {
  const h = harness()
  forwardAll(h, [message('t/direct', 1)])
  h.writer.qosResult = false
  const viaAedes = message('t/aedes', 1)
  assert.equal(h.session.forward(viaAedes), viaAedes, 'aedes sends it, with the packet id set here')
  assert.equal(viaAedes.messageId, 2)
  h.writer.qosResult = true
  forwardAll(h, [message('t/q2', 2)])
  assert.deepEqual([h.session.acked(1), h.session.acked(2), h.session.acked(3), h.session.acked(1)], [true, false, false, false])
})

test('a client\'s own limits (auth_on_register modifiers) replace the node\'s: window, online queue, retry interval', () => {
  const h = harness({}, { maxInflight: 20, maxOnline: 1000, retryMs: 20_000 })
  h.session.limits = { maxInflight: 1, maxOnline: 1, retryMs: 500 }
  forwardAll(h, numbered(3, 1))
  assert.deepEqual(h.session.counts, { inflight: 1, waiting: 1 })
  assert.equal(h.counters.onlineDropped, 1)
  h.clock.advance(500)
  assert.deepEqual(h.writer.take(), ['publish t/1 q1 id1', 'publish t/1 q1 id1 dup (retry)'])
})
