import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqtt from 'mqtt-packet'
import { Framer, Framer5, framerFor, type FrameSink } from '../../../bench/load/framer.js'
import { connectPacket, disconnectPacket, monotonicMicros, publishRun, publishTemplate, SESSION_NEVER_EXPIRES, subscribePacket, type ProtocolVersion } from '../../../bench/load/packets.js'

const v5 = { protocolVersion: 5 }

/** Parses `bytes` with mqtt-packet at `protocol` and returns every packet. */
function parse (bytes: Buffer, protocol: ProtocolVersion): mqtt.Packet[] {
  const parser = mqtt.parser({ protocolVersion: protocol })
  const packets: mqtt.Packet[] = []
  const errors: Error[] = []
  parser.on('packet', p => packets.push(p))
  parser.on('error', e => errors.push(e))
  parser.parse(bytes)
  assert.deepEqual(errors, [])
  return packets
}

function recorder (): FrameSink & { events: string[] } {
  const events: string[] = []
  return {
    events,
    connack: code => events.push(`connack ${code}`),
    suback: code => events.push(`suback ${code}`),
    publish: (buf, start, end, qos, dup, id) => events.push(`publish q${qos} id${id} ${dup ? 'dup ' : ''}${buf.subarray(start, end).toString()}`),
    puback: id => events.push(`puback ${id}`)
  }
}

test('a v5 QoS 1 publish template, patched with packet id and send time, parses back as MQTT 5', () => {
  const template = publishTemplate('bench/t5', 1, 64, 5)
  const packet = Buffer.from(template.bytes)
  packet.writeUInt16BE(4242, template.idOffset)
  const sent = monotonicMicros()
  packet.writeDoubleLE(sent, template.payloadOffset)
  const [parsed] = parse(packet, 5) as mqtt.IPublishPacket[]
  assert.equal(parsed.cmd, 'publish')
  assert.equal(parsed.topic, 'bench/t5')
  assert.equal(parsed.qos, 1)
  assert.equal(parsed.messageId, 4242)
  assert.equal(parsed.dup, false)
  assert.equal(parsed.retain, false)
  const payload = parsed.payload as Buffer
  assert.equal(payload.length, 64)
  assert.equal(payload.readDoubleLE(0), sent)
  assert.deepEqual(payload.subarray(8), Buffer.alloc(56, 0x61))
  // the property block is there and empty, one byte before the payload
  assert.equal(packet[template.payloadOffset - 1], 0)
  assert.equal(template.payloadOffset - template.idOffset, 3)
})

test('a v5 QoS 0 publish template has no packet id and its send time lands in the payload', () => {
  const template = publishTemplate('q0', 0, 16, 5)
  assert.equal(template.idOffset, -1)
  const packet = Buffer.from(template.bytes)
  packet.writeDoubleLE(123456.5, template.payloadOffset)
  const [parsed] = parse(packet, 5) as mqtt.IPublishPacket[]
  assert.equal(parsed.topic, 'q0')
  assert.equal(parsed.qos, 0)
  assert.equal(parsed.messageId, undefined)
  assert.equal((parsed.payload as Buffer).readDoubleLE(0), 123456.5)
  assert.equal((parsed.payload as Buffer).length, 16)
})

test('a run of v5 templates patched the way a publisher patches them parses as consecutive packet ids', () => {
  const template = publishTemplate('bench/run', 1, 32, 5)
  const run = publishRun(template, 3)
  const size = template.bytes.length
  for (let i = 0; i < 3; i++) {
    run.writeUInt16BE(65534 + i > 65535 ? i - 1 : 65534 + i, i * size + template.idOffset)
    run.writeDoubleLE(1000 + i, i * size + template.payloadOffset)
  }
  const parsed = parse(run, 5) as mqtt.IPublishPacket[]
  assert.deepEqual(parsed.map(p => [p.topic, p.messageId, (p.payload as Buffer).readDoubleLE(0)]), [['bench/run', 65534, 1000], ['bench/run', 65535, 1001], ['bench/run', 1, 1002]])
})

test('the 3.1.1 templates are unchanged: no property block', () => {
  const template = publishTemplate('bench/t', 1, 64)
  assert.equal(template.payloadOffset - template.idOffset, 2)
  const [parsed] = parse(template.bytes, 4) as mqtt.IPublishPacket[]
  assert.equal(parsed.topic, 'bench/t')
  assert.equal(parsed.messageId, 1)
})

test('v5 CONNECT: clean start, and a session that never expires when clean is off', () => {
  const [clean] = parse(connectPacket('c1', true, 600, undefined, 5), 5) as mqtt.IConnectPacket[]
  assert.equal(clean.protocolVersion, 5)
  assert.equal(clean.clean, true)
  assert.equal(clean.properties?.sessionExpiryInterval, undefined)
  const [kept] = parse(connectPacket('c2', false, 600, { username: 'u', password: 'p' }, 5), 5) as mqtt.IConnectPacket[]
  assert.equal(kept.protocolVersion, 5)
  assert.equal(kept.clean, false)
  assert.equal(kept.properties?.sessionExpiryInterval, SESSION_NEVER_EXPIRES)
  assert.equal(kept.username, 'u')
  assert.equal(String(kept.password), 'p')
  const [v4] = parse(connectPacket('c3', false, 600), 4) as mqtt.IConnectPacket[]
  assert.equal(v4.protocolVersion, 4)
  assert.equal(v4.properties, undefined)
})

test('v5 SUBSCRIBE and DISCONNECT parse as MQTT 5', () => {
  const [sub] = parse(subscribePacket('bench/x', 1, 1, 5), 5) as mqtt.ISubscribePacket[]
  assert.equal(sub.messageId, 1)
  assert.deepEqual(sub.subscriptions.map(s => [s.topic, s.qos]), [['bench/x', 1]])
  const [disconnect] = parse(disconnectPacket(5), 5) as mqtt.IDisconnectPacket[]
  assert.equal(disconnect.cmd, 'disconnect')
  assert.equal(disconnect.reasonCode ?? 0, 0)
})

test('Framer5 reads v5 CONNACK, SUBACK, PUBACK and PUBLISH with and without properties, across any chunking', () => {
  const stream = Buffer.concat([
    mqtt.generate({ cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { topicAliasMaximum: 10, receiveMaximum: 100 } }, v5),
    mqtt.generate({ cmd: 'suback', messageId: 1, granted: [1], properties: { reasonString: 'fine' } }, v5),
    // as a broker delivers it to a subscription with an identifier
    mqtt.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 1, messageId: 7, dup: true, retain: false, properties: { subscriptionIdentifier: 300 } }, v5),
    mqtt.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('props'), qos: 1, messageId: 8, dup: false, retain: false, properties: { subscriptionIdentifier: [1, 268435455], userProperties: { k: 'v'.repeat(200) } } }, v5),
    mqtt.generate({ cmd: 'publish', topic: 'long', payload: Buffer.alloc(300, 0x78), qos: 0, retain: false, dup: false }, v5),
    mqtt.generate({ cmd: 'publish', topic: 'e', payload: Buffer.alloc(0), qos: 1, messageId: 9, retain: false, dup: false, properties: {} }, v5),
    mqtt.generate({ cmd: 'puback', messageId: 65535 }, v5),
    mqtt.generate({ cmd: 'puback', messageId: 3, reasonCode: 0x10, properties: { reasonString: 'no subscribers' } }, v5)
  ])
  const expected = ['connack 0', 'suback 1', 'publish q1 id7 dup hello', 'publish q1 id8 props', `publish q0 id0 ${'x'.repeat(300)}`, 'publish q1 id9 ', 'puback 65535', 'puback 3']
  for (let step = 1; step <= stream.length; step += 5) {
    const sink = recorder()
    const framer = new Framer5(sink)
    for (let i = 0; i < stream.length; i += step) framer.push(stream.subarray(i, i + step))
    assert.deepEqual(sink.events, expected, `chunks of ${step} bytes`)
  }
})

test('Framer5 passes on v5 refusals: CONNACK reason code, SUBACK reason code of the one filter', () => {
  const sink = recorder()
  new Framer5(sink).push(Buffer.concat([
    mqtt.generate({ cmd: 'connack', reasonCode: 0x86, sessionPresent: false, properties: { reasonString: 'bad user name or password' } }, v5),
    mqtt.generate({ cmd: 'suback', messageId: 1, granted: [0x87], properties: { reasonString: 'not authorized' } }, v5)
  ]))
  assert.deepEqual(sink.events, ['connack 134', 'suback 135'])
})

test('Framer5 finds the send time of a v5 template where the publisher wrote it', () => {
  const template = publishTemplate('bench/t5', 1, 64, 5)
  const packet = Buffer.from(template.bytes)
  packet.writeUInt16BE(4242, template.idOffset)
  const sent = monotonicMicros()
  packet.writeDoubleLE(sent, template.payloadOffset)
  const parsed: Array<{ id: number, sent: number, size: number }> = []
  new Framer5({
    connack: () => {},
    suback: () => {},
    puback: () => {},
    publish: (buf, start, end, _qos, _dup, id) => parsed.push({ id, sent: buf.readDoubleLE(start), size: end - start })
  }).push(packet)
  assert.deepEqual(parsed, [{ id: 4242, sent, size: 64 }])
})

test('framerFor picks the 3.1.1 framer for 4 and Framer5 for 5', () => {
  const sink = recorder()
  assert.equal(framerFor(4, sink).constructor, Framer)
  assert.equal(framerFor(5, sink).constructor, Framer5)
})
