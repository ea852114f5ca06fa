// Pins the aedes 2.0.0-beta.1 behaviours src/broker/queue relies on beyond the
// documented API (listed in src/broker/delivery/adapter.ts). If aedes changes
// one of them, a test here fails and names it.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect as netConnect, type Server } from 'node:net'
import { Aedes, type Client } from 'aedes'
import mqttPacket, { type Packet, type IPublishPacket } from 'mqtt-packet'
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js'
import { acknowledgeAndPublish, acknowledgeSkipped, connectedWithId, dropWill, INJECTED_BROKER_ID, isStoredReplay, onParsedPacket, publishAs, publishStub, rewriteWrites, skipPublish, subscriptionsOf, type OutPacket } from '../../../../src/broker/delivery/adapter.js'
import { writeQos, writeQos0 } from '../../../../src/broker/delivery/writer.js'
import { packetBytes, RawClient } from '../../../e2e/helpers/raw.js'

interface Call { method: string, clientId: string, packet: Record<string, unknown> }

describe('aedes behaviours the delivery layer relies on', () => {
  let broker: Aedes
  let server: Server
  let port: number
  const calls: Call[] = []
  const forwarded: OutPacket[] = []
  let replace: ((client: Client, packet: OutPacket) => OutPacket | null) | undefined
  const clients = new Map<string, Client>()

  before(async () => {
    const memory = new MemoryPersistence()
    const recorded = new Proxy(memory, {
      get (target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown
        if (typeof value !== 'function') return value
        if (typeof key !== 'string' || !key.startsWith('outgoing')) return (value as (...a: unknown[]) => unknown).bind(target)
        return (...args: unknown[]) => {
          const first = args[0] as { id?: string, clientId?: string }
          calls.push({ method: key, clientId: first?.id ?? first?.clientId ?? '', packet: { ...(args[1] as object) } })
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      }
    })
    broker = await Aedes.createBroker({
      persistence: recorded as never,
      authorizeForward: (client, packet) => {
        forwarded.push({ ...packet } as unknown as OutPacket)
        if (replace !== undefined) return replace(client, packet as unknown as OutPacket) as never
        return packet
      }
    })
    broker.on('client', c => { clients.set(c.id, c) })
    server = createServer(socket => broker.handle(socket))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })

  after(async () => {
    await new Promise<void>(resolve => broker.close(() => resolve()))
    await new Promise<void>(resolve => server.close(() => resolve()))
  })

  async function open (clientId: string, clean = true, topic?: string, qos: 0 | 1 | 2 = 1): Promise<RawClient> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>(resolve => socket.once('connect', resolve))
    const raw = RawClient.wrap(socket)
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive: 0 })
    await raw.next('connack')
    if (topic !== undefined) {
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
      await raw.next('suback')
    }
    return raw
  }

  async function publish (topic: string, payload: string, qos: 0 | 1 | 2): Promise<void> {
    await new Promise<void>(resolve => broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, () => resolve()))
  }

  it('sends the packet authorizeForward returns, with its messageId and dup', async () => {
    const raw = await open('b1', true, 'b1/t')
    replace = (_client, packet) => ({ ...packet, messageId: 4242, dup: true })
    await publish('b1/t', 'x', 1)
    replace = undefined
    const got = await raw.next('publish') as IPublishPacket
    assert.equal(got.messageId, 4242)
    assert.equal(got.dup, true)
    raw.socket.destroy()
  })

  it('broker.clients holds the connected client a second connection with its id takes over; one closed with _disconnected set publishes no will (16.)', async () => {
    const sub = await open('w16sub', true, 'w16/#', 0)
    const connectWithWill = async (): Promise<RawClient> => {
      const socket = netConnect(port, '127.0.0.1')
      await new Promise<void>(resolve => socket.once('connect', resolve))
      const raw = RawClient.wrap(socket)
      raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'w16', keepalive: 0, will: { topic: 'w16/will', payload: Buffer.from('gone'), qos: 0, retain: false } })
      await raw.next('connack')
      return raw
    }
    const first = await connectWithWill()
    const firstClient = clients.get('w16') as Client
    // a connection with the same id, not registered yet (as in authenticate), finds the first
    assert.equal(connectedWithId({ id: 'w16', broker } as unknown as Client), firstClient)
    assert.equal(connectedWithId(firstClient), undefined)
    // taken over without dropWill: the will is published
    const second = await connectWithWill()
    assert.equal((await sub.next('publish') as IPublishPacket).payload.toString(), 'gone')
    const secondClient = clients.get('w16') as Client
    assert.notEqual(secondClient, firstClient)
    // the CONNECT of a third is authenticated while the second is still broker.clients[id]
    dropWill(secondClient)
    const third = await connectWithWill()
    await publish('w16/marker', 'after', 0)
    const next = await sub.next('publish') as IPublishPacket
    assert.equal(next.topic, 'w16/marker', 'no will before the marker')
    for (const raw of [first, second, third, sub]) raw.socket.destroy()
  })

  it('hands every subscriber a copy of a QoS 0 packet sharing one payload Buffer; a null forward sends nothing and the publish completes', async () => {
    const a = await open('q0a', true, 'q0/t', 0)
    const b = await open('q0b', true, 'q0/t', 0)
    const seen: OutPacket[] = []
    replace = (client, packet) => {
      seen.push(packet)
      if (client.id !== 'q0b') return packet
      // what writeQos0 does: the bytes go out here, aedes gets null
      assert.equal(writeQos0(client, packet, -1), 'written')
      return null
    }
    await publish('q0/t', 'shared', 0)
    replace = undefined
    assert.equal(seen.length, 2)
    assert.notEqual(seen[0], seen[1])
    assert.equal(seen[0].payload, seen[1].payload)
    for (const raw of [a, b]) {
      const got = await raw.next('publish') as IPublishPacket
      assert.deepEqual([got.topic, got.payload.toString(), got.qos, got.retain], ['q0/t', 'shared', 0, false])
    }
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(b.packets.filter(p => p.cmd === 'publish').length, 0, 'aedes sent no second copy')
    a.socket.destroy()
    b.socket.destroy()
  })

  it('writes every packet to an MQTT 5 connection through client.conn.write, whole packets in order (12.: topic aliases rewrite them there)', async () => {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>(resolve => socket.once('connect', resolve))
    const raw = RawClient.wrap(socket, 5)
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'rw5', keepalive: 0 })
    await raw.next('connack')
    const seen: Buffer[] = []
    rewriteWrites(clients.get('rw5') as Client, chunk => { seen.push(Buffer.from(chunk)); return [chunk] })
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'rw5/#', qos: 1 }] })
    await raw.next('suback')
    await publish('rw5/a', 'zero', 0)
    await publish('rw5/b', 'one', 1)
    const got = [await raw.next('publish'), await raw.next('publish')] as IPublishPacket[]
    raw.send({ cmd: 'puback', messageId: got[1].messageId })
    const parsed: Packet[] = []
    const parser = mqttPacket.parser({ protocolVersion: 5 })
    parser.on('packet', p => parsed.push(p))
    parser.parse(Buffer.concat(seen))
    assert.deepEqual(parsed.map(p => p.cmd), ['suback', 'publish', 'publish'])
    assert.deepEqual((parsed.slice(1) as IPublishPacket[]).map(p => [p.topic, p.payload.toString()]), [['rw5/a', 'zero'], ['rw5/b', 'one']])
    socket.destroy()
  })

  it('writeQos sends a clean session the packet id and DUP it is given, small and large payloads alike', async () => {
    const raw = await open('wq', true, 'wq/t')
    for (const [size, id, dup] of [[10, 77, false], [3000, 78, true]] as const) {
      const payload = Buffer.alloc(size, size % 251)
      assert.equal(writeQos(clients.get('wq') as Client, { cmd: 'publish', topic: 'wq/t', payload, qos: 1, retain: false }, 1, id, dup), true)
      const got = await raw.next('publish') as IPublishPacket
      assert.deepEqual([got.messageId, got.dup, got.qos, got.topic], [id, dup, 1, 'wq/t'])
      assert.ok((got.payload as Buffer).equals(payload))
    }
    raw.socket.destroy()
  })

  it('passes client.publish through authorizeForward with our brokerId and counter, after its duplicate check', async () => {
    const raw = await open('b2', true, 'b2/t')
    const pending = new Map<number, OutPacket>()
    const real: OutPacket = { cmd: 'publish', topic: 'b2/t', payload: Buffer.from('real'), qos: 1, retain: false, messageId: 7, dup: false }
    replace = (_client, packet) => {
      if (packet.brokerId !== INJECTED_BROKER_ID) return packet
      return pending.get(packet.brokerCounter ?? -1) ?? null
    }
    publishStub(clients.get('b2') as Client, real, 1, pending)
    publishStub(clients.get('b2') as Client, { ...real, messageId: 8 }, 1, pending)
    const first = await raw.next('publish') as IPublishPacket
    const second = await raw.next('publish') as IPublishPacket
    replace = undefined
    assert.deepEqual([first.payload.toString(), first.messageId, second.messageId], ['real', 7, 8])
    raw.socket.destroy()
  })

  it('stores a client.publish to a persistent session through outgoingEnqueue (which the tap skips for stubs)', async () => {
    const raw = await open('b2p', false, 'b2p/t')
    const pending = new Map<number, OutPacket>()
    replace = (_client, packet) => packet.brokerId === INJECTED_BROKER_ID ? pending.get(packet.brokerCounter ?? -1) ?? null : packet
    calls.length = 0
    publishStub(clients.get('b2p') as Client, { cmd: 'publish', topic: 'b2p/t', payload: Buffer.from('p'), qos: 1, retain: false, messageId: 9, brokerId: 'origin', brokerCounter: 1 }, 1, pending)
    // (without the tap the stored stub and the real packet differ, so aedes' outgoingUpdate fails here)
    await waitUntil(() => calls.some(c => c.clientId === 'b2p' && c.method.startsWith('outgoingEnqueue')))
    replace = undefined
    const enqueue = calls.find(c => c.clientId === 'b2p' && c.method.startsWith('outgoingEnqueue'))
    assert.equal(enqueue?.method, 'outgoingEnqueue')
    assert.equal(enqueue?.packet.brokerId, INJECTED_BROKER_ID)
    raw.socket.destroy()
  })

  it('gives live packets no messageId, and the stored-queue replay at CONNECT one', async () => {
    const sub = await open('b3', false, 'b3/t')
    sub.socket.destroy()
    await waitUntil(() => !clients.get('b3')?.connected)
    forwarded.length = 0
    await publish('b3/t', 'stored', 1)
    const again = await open('b3', false)
    const got = await again.next('publish') as IPublishPacket
    assert.equal(got.payload.toString(), 'stored')
    const replayed = forwarded.find(p => p.topic === 'b3/t')
    assert.ok(replayed !== undefined && isStoredReplay(replayed), 'the replay carries a messageId')
    const live = await open('b3live', true, 'b3/live')
    forwarded.length = 0
    await publish('b3/live', 'live', 1)
    await live.next('publish')
    assert.equal(isStoredReplay(forwarded[0]), false)
    again.socket.destroy()
    live.socket.destroy()
  })

  it('keeps client.subscriptions as filter -> { qos } and caps QoS at a filter equal to the topic only', async () => {
    const raw = await open('b4', true, 'b4/+', 1)
    raw.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'b4/exact', qos: 0 }] })
    await raw.next('suback')
    assert.deepEqual(Object.fromEntries(Object.entries(subscriptionsOf(clients.get('b4') as Client)).map(([k, v]) => [k, v.qos])), { 'b4/+': 1, 'b4/exact': 0 })
    raw.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['b4/exact'] })
    await raw.next('unsuback')
    raw.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'b4/#', qos: 1 }] })
    await raw.next('suback')
    await publish('b4/x', 'two', 2)
    const got = await raw.next('publish') as IPublishPacket
    assert.equal(got.qos, 2, 'aedes does not cap at a wildcard filter (the delivery layer does)')
    raw.send({ cmd: 'pubrec', messageId: got.messageId })
    raw.socket.destroy()
  })

  it('numbers the packets of one broker with an increasing brokerCounter (session groups claim by it)', async () => {
    const raw = await open('b5', true, 'b5/t')
    forwarded.length = 0
    await publish('b5/t', 'x', 0)
    await publish('b5/t', 'y', 1)
    await raw.next('publish')
    await raw.next('publish')
    assert.equal(forwarded.length, 2)
    assert.equal(forwarded[0].brokerId, broker.id)
    assert.ok((forwarded[1].brokerCounter ?? 0) > (forwarded[0].brokerCounter ?? 0))
    raw.socket.destroy()
  })

  it('keeps a keepalive of N s as _keepaliveInterval N x 1500 + 1 with a timer that each handled packet refreshes (guard 4.)', async () => {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>(resolve => socket.once('connect', resolve))
    const raw = RawClient.wrap(socket)
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'ka-pin', keepalive: 2 })
    await raw.next('connack')
    const client = clients.get('ka-pin') as unknown as { _keepaliveInterval: number, _keepaliveTimer: NodeJS.Timeout & { _idleStart: number } }
    assert.equal(client._keepaliveInterval, 3001)
    const armedAt = client._keepaliveTimer._idleStart
    await new Promise(resolve => setTimeout(resolve, 50))
    raw.send({ cmd: 'pingreq' })
    await raw.next('pingresp')
    assert.ok(client._keepaliveTimer._idleStart > armedAt, 'the timer was restarted by the PINGREQ')
    raw.socket.destroy()
  })

  it('handles a PUBACK by clearing it in the store (outgoingClearMessageId) and emitting ack, nothing else', async () => {
    const acks: unknown[] = []
    const onAck = (packet: unknown): void => { acks.push(packet) }
    broker.on('ack', onAck)
    const raw = await open('ack-pin')
    const before = calls.length
    raw.send({ cmd: 'puback', messageId: 42 })
    await waitUntil(() => acks.length === 1)
    broker.removeListener('ack', onAck)
    assert.deepEqual(calls.slice(before).map(c => [c.method, c.clientId, c.packet.messageId]), [['outgoingClearMessageId', 'ack-pin', 42]])
    assert.deepEqual(raw.packets, [])
    raw.socket.destroy()
  })

  it('tells the persistence of acks, PUBRECs and refused forwards as the tap expects', async () => {
    const clean = await open('b6', true, 'b6/t')
    calls.length = 0
    await publish('b6/t', 'clean', 1)
    const p = await clean.next('publish') as IPublishPacket
    clean.send({ cmd: 'puback', messageId: p.messageId })
    await waitUntil(() => calls.some(c => c.method === 'outgoingClearMessageId' && c.clientId === 'b6'))
    assert.deepEqual(calls.filter(c => c.clientId === 'b6').map(c => [c.method, c.packet.cmd, c.packet.messageId]), [
      ['outgoingClearMessageId', 'puback', p.messageId]
    ], 'a clean session reports its PUBACK to the persistence')

    const persistent = await open('b7', false, 'b7/t', 2)
    calls.length = 0
    await publish('b7/t', 'persistent', 2)
    const q2 = await persistent.next('publish') as IPublishPacket
    persistent.send({ cmd: 'pubrec', messageId: q2.messageId })
    await persistent.next('pubrel')
    assert.ok(calls.some(c => c.method === 'outgoingUpdate' && c.clientId === 'b7' && c.packet.cmd === 'pubrel'), 'PUBREC of a persistent session becomes outgoingUpdate(pubrel)')
    persistent.send({ cmd: 'pubcomp', messageId: q2.messageId })
    await waitUntil(() => calls.some(c => c.method === 'outgoingClearMessageId' && c.packet.cmd === 'pubcomp'))

    calls.length = 0
    replace = () => null
    await publish('b7/t', 'held back', 1)
    replace = undefined
    await waitUntil(() => calls.some(c => c.method === 'outgoingClearMessageId'))
    const refused = calls.find(c => c.method === 'outgoingClearMessageId')
    assert.equal(refused?.packet.messageId, undefined, 'a refused forward is cleared without a messageId')
    assert.equal(refused?.packet.cmd, 'publish')
    persistent.socket.destroy()
  })
})

describe('aedes behaviours the delivery layer relies on: skipped and refused PUBLISHes, parsed PUBRECs', () => {
  let broker: Aedes
  let server: Server
  let port: number
  const clients = new Map<string, Client>()

  before(async () => {
    broker = await Aedes.createBroker({
      authorizePublish: (client, packet, callback) => {
        if (client !== null && packet.topic.startsWith('fast/') && acknowledgeAndPublish(client, packet, callback)) return
        if (client !== null && packet.topic.startsWith('skip/')) {
          skipPublish(packet)
          acknowledgeSkipped(client, packet)
          callback(null)
          return
        }
        callback(packet.topic.startsWith('refuse/') ? new Error('refused here') : null)
      }
    })
    broker.on('client', c => { clients.set(c.id, c) })
    server = createServer(socket => broker.handle(socket))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })

  after(async () => {
    await new Promise<void>(resolve => broker.close(() => resolve()))
    await new Promise<void>(resolve => server.close(() => resolve()))
  })

  async function open (clientId: string, version: 4 | 5, topic?: string): Promise<RawClient> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>(resolve => socket.once('connect', resolve))
    const raw = RawClient.wrap(socket, version)
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clean: true, clientId, keepalive: 0 })
    await raw.next('connack')
    if (topic !== undefined) {
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 2 }] })
      await raw.next('suback')
    }
    return raw
  }

  it('acknowledgeAndPublish writes the PUBACK bytes aedes writes itself, publishes once, and aedes does neither again', async () => {
    for (const version of [4, 5] as const) {
      const sub = await open(`ap-sub${version}`, version, `+/ap${version}`)
      const socket = netConnect(port, '127.0.0.1')
      await new Promise<void>(resolve => socket.once('connect', resolve))
      const chunks: Buffer[] = []
      socket.on('data', (d: Buffer) => { chunks.push(d) })
      const send = (packet: Packet): void => { socket.write(mqttPacket.generate(packet, { protocolVersion: version })) }
      send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clean: true, clientId: `ap-pub${version}`, keepalive: 0 })
      await waitUntil(() => Buffer.concat(chunks).length > 0)
      const connackLength = Buffer.concat(chunks).length
      send({ cmd: 'publish', topic: `plain/ap${version}`, payload: Buffer.from('a'), qos: 1, messageId: 7, retain: false, dup: false })
      await sub.next('publish')
      await waitUntil(() => Buffer.concat(chunks).length > connackLength)
      const aedesAck = Buffer.concat(chunks).subarray(connackLength)
      send({ cmd: 'publish', topic: `fast/ap${version}`, payload: Buffer.from('b'), qos: 1, messageId: 7, retain: false, dup: false })
      const delivered = await sub.next('publish') as IPublishPacket
      await waitUntil(() => Buffer.concat(chunks).length >= connackLength + 2 * aedesAck.length)
      const ownAck = Buffer.concat(chunks).subarray(connackLength + aedesAck.length)
      assert.deepEqual([...aedesAck], version === 5 ? [0x40, 4, 0, 7, 0, 0] : [0x40, 2, 0, 7])
      assert.deepEqual([...ownAck], [...aedesAck])
      assert.equal(delivered.topic, `fast/ap${version}`)
      await new Promise(resolve => setTimeout(resolve, 100))
      assert.equal(sub.received('publish').length, 0, 'published once')
      assert.equal(Buffer.concat(chunks).length, connackLength + 2 * aedesAck.length, 'acknowledged once')
      socket.destroy()
      sub.socket.destroy()
    }
  })

  it('a PUBLISH marked by skipPublish is published to nobody; acknowledgeSkipped acks it and aedes answers its PUBREL', async () => {
    const sub = await open('s8sub', 4, 'skip/#')
    const pub = await open('s8pub', 4)
    pub.send({ cmd: 'publish', topic: 'skip/1', payload: Buffer.from('x'), qos: 1, messageId: 5, retain: false, dup: false })
    assert.equal((await pub.next('puback')).messageId, 5)
    pub.send({ cmd: 'publish', topic: 'skip/2', payload: Buffer.from('x'), qos: 2, messageId: 6, retain: false, dup: false })
    assert.equal((await pub.next('pubrec')).messageId, 6)
    pub.send({ cmd: 'pubrel', messageId: 6 })
    assert.equal((await pub.next('pubcomp')).messageId, 6)
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(sub.packets.filter(p => p.cmd === 'publish').length, 0)
    assert.deepEqual(pub.packets.map(p => p.cmd), [], 'one acknowledgement each')
    sub.socket.destroy()
    pub.socket.destroy()
  })

  it('publishAs: the publishing client reaches the \'publish\' event and the packet (No Local), from another broker too (14.)', async () => {
    const other = await Aedes.createBroker()
    try {
      const pub = await open('s14pub', 5)
      const publisher = clients.get('s14pub') as Client
      const events: Array<string | undefined> = []
      const routed: Array<string | undefined> = []
      other.on('publish', (packet, client) => { if (packet.topic === 'as/1') events.push(client?.id) })
      await new Promise<void>(resolve => { other.subscribe('as/1', (packet, cb) => { routed.push((packet as { clientId?: string }).clientId); cb() }, resolve) })
      await new Promise<void>((resolve, reject) => {
        publishAs(other, { cmd: 'publish', topic: 'as/1', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, publisher, err => { if (err != null) reject(err); else resolve() })
      })
      assert.deepEqual(events, ['s14pub'])
      assert.deepEqual(routed, ['s14pub'])
      pub.socket.destroy()
    } finally {
      await new Promise<void>(resolve => other.close(() => resolve()))
    }
  })

  it('an MQTT 5 PUBLISH refused by authorizePublish gets reason 0x87 with the error as reason string, and the connection stays', async () => {
    const pub = await open('s8v5', 5)
    pub.send({ cmd: 'publish', topic: 'refuse/1', payload: Buffer.from('x'), qos: 1, messageId: 7, retain: false, dup: false })
    const puback = await pub.next('puback') as { reasonCode?: number, properties?: { reasonString?: string } }
    assert.equal(puback.reasonCode, 0x87)
    assert.equal(puback.properties?.reasonString, 'refused here')
    pub.send({ cmd: 'publish', topic: 'refuse/2', payload: Buffer.from('x'), qos: 2, messageId: 8, retain: false, dup: false })
    assert.equal((await pub.next('pubrec') as { reasonCode?: number }).reasonCode, 0x87)
    pub.socket.destroy()
  })

  it('client.subscriptions keeps the MQTT 5 Subscription Identifier of a filter as si', async () => {
    const sub = await open('s10', 5)
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'si/+', qos: 1 }], properties: { subscriptionIdentifier: 42 } } as Packet)
    await sub.next('suback')
    sub.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'si/#', qos: 0 }] })
    await sub.next('suback')
    const subs = subscriptionsOf(clients.get('s10') as Client)
    assert.deepEqual([subs['si/+'].si, subs['si/#'].si], [42, undefined])
    sub.socket.destroy()
  })

  it('writeQos0 writes an MQTT 5 PUBLISH with its properties straight to the connection', async () => {
    const sub = await open('s11', 5)
    const properties = { subscriptionIdentifier: [1, 2], contentType: 'text/plain' }
    assert.equal(writeQos0(clients.get('s11') as Client, { topic: 'w5/t', payload: Buffer.from('direct'), qos: 0, retain: false, properties }, -1), 'written')
    const got = await sub.next('publish') as IPublishPacket
    assert.deepEqual([got.topic, got.payload.toString(), got.qos, got.properties], ['w5/t', 'direct', 0, properties])
    sub.socket.destroy()
  })

  it('onParsedPacket sees a clean session\'s PUBREC before aedes answers it with PUBREL, with the client (aedes sets client._parser.client)', async () => {
    const sub = await open('s9', 4, 'rec/t')
    const seen: Array<{ cmd: string, messageId?: number }> = []
    const client = clients.get('s9') as Client
    onParsedPacket(client, (p, from) => { if (p.cmd === 'pubrec' && from === client) seen.push({ cmd: p.cmd, messageId: p.messageId }) })
    await new Promise<void>(resolve => broker.publish({ cmd: 'publish', topic: 'rec/t', payload: Buffer.from('x'), qos: 2, retain: false, dup: false }, () => resolve()))
    const got = await sub.next('publish') as IPublishPacket
    sub.send({ cmd: 'pubrec', messageId: got.messageId })
    assert.equal((await sub.next('pubrel')).messageId, got.messageId)
    assert.deepEqual(seen, [{ cmd: 'pubrec', messageId: got.messageId }])
    sub.socket.destroy()
  })
})

async function waitUntil (check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  assert.ok(check(), 'condition not reached')
}

// What guardPackets and setMaximumPacketSize rely on in mqtt-packet's parser
// (aedes' client._parser) and in aedes' read loop.
describe('parser and read-loop behaviours the packet guard relies on', () => {
  interface Internals {
    _parseString: () => string | null
    _list: { slice: (start: number, end: number) => Buffer, length: number, get: (i: number) => number }
    _pos: number
    packet: { cmd: string | null, length: number }
    error: Error | null
    parse: (buf: Buffer) => number
    on: (event: string, listener: (arg: never) => void) => void
  }
  const newParser = (): Internals => mqttPacket.parser() as unknown as Internals

  it('_parseString reads a 2-byte length at _pos and leaves _pos after the string bytes, decoding bad bytes to U+FFFD', () => {
    const parser = newParser()
    let seen: { start: number, end: number, text: string | null, bytes: Buffer } | undefined
    const parseString = parser._parseString
    parser._parseString = function (this: Internals) {
      const start = this._pos
      const text = parseString.call(this)
      if (seen === undefined) seen = { start, end: this._pos, text, bytes: this._list.slice(start + 2, this._pos) }
      return text
    }
    const packets: Packet[] = []
    parser.on('packet', (p: Packet) => { packets.push(p) })
    parser.parse(Buffer.from([0x30, 5, 0, 2, 0x61, 0xff, 0x78]))
    assert.deepEqual(seen, { start: 0, end: 4, text: 'a\uFFFD', bytes: Buffer.from([0x61, 0xff]) })
    assert.equal((packets[0] as IPublishPacket).topic, 'a\uFFFD')
  })

  it('_pos at a packet event is what was read of its body; _parseVarByteNum(true) gives the length and its byte count; _parseHeader sets cmd and false from it ends parse()', () => {
    const parser = newParser() as Internals & { _parseHeader: () => boolean, _parseVarByteNum: (full?: boolean) => unknown }
    const reads: Array<[number, number]> = []
    parser.on('packet', (p: Packet) => { reads.push([parser._pos, (p as { length: number }).length]) })
    const lengths: unknown[] = []
    const parseVarByteNum = parser._parseVarByteNum
    parser._parseVarByteNum = function (this: Internals, full?: boolean) {
      const result = parseVarByteNum.call(this, full)
      if (full === true) lengths.push(result)
      return result
    }
    // a PUBACK with 2 bytes left over, then a PINGREQ whose length takes 2 bytes
    parser.parse(Buffer.from([0x40, 4, 0, 1, 9, 9, 0xc0, 0x80, 0x00]))
    assert.deepEqual(reads, [[2, 4], [0, 0]])
    assert.deepEqual(lengths, [{ bytes: 1, value: 4 }, { bytes: 2, value: 0 }])
    const stopping = newParser() as Internals & { _parseHeader: () => boolean }
    const cmds: Array<string | null> = []
    const parseHeader = stopping._parseHeader
    stopping._parseHeader = function (this: Internals) {
      parseHeader.call(this)
      cmds.push(this.packet.cmd)
      return false
    }
    const emitted: Packet[] = []
    stopping.on('packet', (p: Packet) => { emitted.push(p) })
    stopping.parse(Buffer.from([0xc0, 0, 0xc0, 0]))
    assert.deepEqual({ cmds, emitted }, { cmds: ['pingreq'], emitted: [] })
  })

  it('a v5 DISCONNECT of length 0 reads its reason code from the next packet (why the guard skips its parse)', () => {
    const parser = mqttPacket.parser({ protocolVersion: 5 }) as unknown as Internals
    const errors: string[] = []
    parser.on('error', (err: Error) => { errors.push(err.message) })
    parser.parse(Buffer.from([0xe0, 0, 0x30, 3, 0, 1, 0x61]))
    assert.equal(errors[0], 'Invalid disconnect reason code')
  })

  it('between packets its packet has cmd null and its list is empty; inside one, one or the other is not (guard 5.)', () => {
    const parser = newParser()
    parser.parse(Buffer.from([0x30, 3, 0, 1, 0x61, 0x40, 2, 0, 1]))
    assert.deepEqual({ cmd: parser.packet.cmd, listed: parser._list.length }, { cmd: null, listed: 0 })
    parser.parse(Buffer.from([0x30]))
    assert.deepEqual({ cmd: parser.packet.cmd, listed: parser._list.length }, { cmd: 'publish', listed: 0 }, 'a fixed header read: cmd set')
    parser.parse(Buffer.from([3, 0]))
    assert.deepEqual({ cmd: parser.packet.cmd, listed: parser._list.length }, { cmd: 'publish', listed: 1 })
    parser.parse(Buffer.from([1, 0x61]))
    assert.deepEqual({ cmd: parser.packet.cmd, listed: parser._list.length }, { cmd: null, listed: 0 })
  })

  it('knows the command and announced length of a packet whose body has not arrived, with the fixed header consumed', () => {
    const parser = newParser()
    parser.parse(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5]))
    assert.deepEqual({ cmd: parser.packet.cmd, length: parser.packet.length }, { cmd: 'connect', length: 268_435_455 })
    assert.equal(parser._list.get(6), 5, 'the protocol version byte')
  })

  it('sets parser.error to the error it emits, with the messages mapped to Protocol Error', () => {
    const cases: Array<[number[], string]> = [
      [[0x82, 6, 0, 1, 0, 1, 0x61, 3], 'Invalid subscribe QoS, must be <= 2']
    ]
    for (const [bytes, message] of cases) {
      const parser = newParser()
      const errors: Error[] = []
      parser.on('error', (err: Error) => { errors.push(err) })
      parser.parse(Buffer.from(bytes))
      assert.deepEqual(errors.map(e => e.message), [message])
      assert.equal(parser.error, errors[0])
    }
    const v5 = mqttPacket.parser({ protocolVersion: 5 }) as unknown as Internals
    const errors: Error[] = []
    v5.on('error', (err: Error) => { errors.push(err) })
    v5.parse(Buffer.from([0x82, 7, 0, 1, 0, 0, 1, 0x61, 0x30]))
    assert.deepEqual(errors.map(e => e.message), ['Invalid retain handling, must be <= 2'])
  })

  it('reads broker.maximumPacketSize at each read, marks connackSent, and stops reading once _rejectingPacketTooLarge is set', async () => {
    const broker = await Aedes.createBroker()
    const server = createServer(socket => broker.handle(socket))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const clients: Client[] = []
    broker.on('client', c => { clients.push(c) })
    try {
      const open = async (clientId: string): Promise<{ raw: RawClient, closed: Promise<void> }> => {
        const socket = netConnect(port, '127.0.0.1')
        await new Promise<void>(resolve => socket.once('connect', resolve))
        const raw = RawClient.wrap(socket)
        raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0 })
        await raw.next('connack')
        return { raw, closed: new Promise(resolve => socket.once('close', () => resolve())) }
      }
      const limited = await open('limited')
      const latched = await open('latched')
      ;(broker as unknown as { maximumPacketSize: number }).maximumPacketSize = 1000
      limited.raw.socket.write(Buffer.from([0x30, 0x80, 0x80, 0x04, 0, 1, 0x61]))
      await limited.closed

      ;(broker as unknown as { maximumPacketSize: number }).maximumPacketSize = 0
      const client = clients.find(c => c.id === 'latched') as unknown as { _rejectingPacketTooLarge: boolean, connackSent: boolean, conn: { readableLength: number } }
      assert.equal(client.connackSent, true)
      client._rejectingPacketTooLarge = true
      latched.raw.send({ cmd: 'pingreq' })
      await waitUntil(() => client.conn.readableLength === 2)
      assert.deepEqual(latched.raw.packets, [], 'no PINGRESP: the PINGREQ arrived and was left unread')
      latched.raw.socket.destroy()
    } finally {
      await new Promise<void>(resolve => broker.close(() => resolve()))
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  })

  it('handles a packet with the _nextBatch read when it is handed on, called once done (a SUBSCRIBE after its SUBACK, an UNSUBSCRIBE after its UNSUBACK); it is the readable listener; \'connected\' hands on _parser._queue (guard 6.)', async () => {
    interface Internals { _nextBatch: (err?: Error | null) => void, _parsingBatch: number, _parser: { _queue: unknown[] | null, listeners: (e: string) => Array<(p: unknown) => void> }, conn: { listeners: (e: string) => unknown[], write: (...a: unknown[]) => boolean } }
    let authorizing: (() => void) | undefined
    const broker = await Aedes.createBroker({
      authorizeSubscribe: (_c, sub, done) => { authorizing = () => { done(null, sub) } },
      authenticate: (_c, _u, _p, done) => { setTimeout(() => { done(null, true) }, 50) }
    })
    const server = createServer(socket => broker.handle(socket))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const held: unknown[] = []
    broker.preConnect = (client, _packet, done) => {
      const c = client as unknown as Internals & { prependOnceListener: (e: string, l: () => void) => void }
      // before aedes' own 'connected' listener: what it would hand on is taken out
      c.prependOnceListener('connected', () => { held.push(...(c._parser._queue ?? [])); c._parser._queue = [] })
      done(null, true)
    }
    try {
      const socket = netConnect(port, '127.0.0.1')
      await new Promise<void>(resolve => socket.once('connect', resolve))
      const raw = RawClient.wrap(socket)
      raw.sendBytes(packetBytes([{ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'order-pin', keepalive: 0 }, { cmd: 'pingreq' }]))
      await raw.next('connack')
      await waitUntil(() => held.length === 1)
      const client = (broker as unknown as { clients: Record<string, unknown> }).clients['order-pin'] as Internals
      assert.ok(client.conn.listeners('readable').includes(client._nextBatch), 'client._nextBatch is the readable listener')
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.deepEqual(raw.packets, [], 'the PINGREQ taken from the queue was not handled')
      const enqueue = client._parser.listeners('packet')[0]
      client._parsingBatch--
      enqueue.call(client._parser, held[0])
      await raw.next('pingresp')

      const done: string[] = []
      const written: string[] = []
      const write = client.conn.write.bind(client.conn)
      client.conn.write = (...args: unknown[]) => {
        // aedes writes a packet in several chunks; its first byte says SUBACK (9) or UNSUBACK (11)
        const type = (args[0] as Buffer)[0] >> 4
        if (type === 9 || type === 11) written.push(String(type))
        return write(...args)
      }
      const parser = client._parser as unknown as { prependListener: (e: string, l: (p: { cmd: string }) => void) => void, on: (e: string, l: () => void) => void }
      let next: Internals['_nextBatch'] | undefined
      parser.prependListener('packet', (packet) => {
        next = client._nextBatch
        client._nextBatch = (err) => { done.push(`${packet.cmd} after ${written.join(',')}`); next?.(err) }
      })
      parser.on('packet', () => { if (next !== undefined) client._nextBatch = next })
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'pin/#', qos: 1 }] })
      await waitUntil(() => authorizing !== undefined)
      await new Promise(resolve => setTimeout(resolve, 20))
      assert.deepEqual(done, [], 'not done while authorizeSubscribe waits')
      authorizing?.()
      await raw.next('suback')
      await waitUntil(() => done.length === 1)
      raw.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['pin/#'] })
      await raw.next('unsuback')
      await waitUntil(() => done.length === 2)
      await new Promise(resolve => setTimeout(resolve, 20))
      assert.deepEqual(done, ['subscribe after 9', 'unsubscribe after 9,11'])
      raw.socket.destroy()
    } finally {
      await new Promise<void>(resolve => broker.close(() => resolve()))
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  })
})
