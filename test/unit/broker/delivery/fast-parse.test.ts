import assert from 'node:assert/strict'
import { test } from 'node:test'
import mqttPacket from 'mqtt-packet'
import { FastReader, type FastPacket } from '../../../../src/broker/delivery/fast-parse.js'

interface Parsed { packet: FastPacket, pos: number }

/** What mqtt-packet makes of `bytes`: each packet with its parser's _pos at the 'packet' event. */
function slow (bytes: Buffer, version: number): Parsed[] {
  const parser = mqttPacket.parser({ protocolVersion: version }) as unknown as NodeJS.EventEmitter & { parse: (b: Buffer) => number, _pos: number }
  const out: Parsed[] = []
  parser.on('packet', (packet: FastPacket) => { out.push({ packet, pos: parser._pos }) })
  parser.parse(bytes)
  return out
}

function fast (bytes: Buffer, version: number): { read: Parsed[], stop: number } {
  const reader = new FastReader()
  const make = (mqttPacket.parser() as unknown as { packet: object }).packet.constructor as new () => FastPacket
  const read: Parsed[] = []
  let offset = 0
  while (offset < bytes.length) {
    const next = reader.next(bytes, offset, version, make)
    if (next < 0) break
    read.push({ packet: reader.packet as FastPacket, pos: reader.bodyRead })
    offset = next
  }
  return { read, stop: offset }
}

const gen = (packet: object, version: number): Buffer => mqttPacket.generate(packet as mqttPacket.Packet, { protocolVersion: version })

test('PUBLISH and PUBACK read in one pass are the objects mqtt-packet makes, with its _pos, at 3.1.1 and MQTT 5', () => {
  for (const version of [3, 4, 5]) {
    const packets = [
      { cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false },
      { cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(0), qos: 1, messageId: 7, retain: true, dup: false },
      { cmd: 'publish', topic: 'ü/ß', payload: Buffer.alloc(300, 1), qos: 2, messageId: 65535, retain: false, dup: true },
      { cmd: 'publish', topic: 'x', payload: Buffer.alloc(20_000, 2), qos: 1, messageId: 1, retain: false, dup: false },
      { cmd: 'puback', messageId: 9 },
      ...(version === 5 ? [{ cmd: 'puback', messageId: 10, reasonCode: 0 }] : []),
      { cmd: 'publish', topic: '', payload: Buffer.from('e'), qos: 0, retain: false, dup: false }
    ]
    const bytes = Buffer.concat(packets.map(p => gen(p, version)))
    const expected = slow(bytes, version)
    const { read, stop } = fast(bytes, version)
    assert.equal(stop, bytes.length, `version ${version}: all read`)
    assert.deepStrictEqual(read, expected, `version ${version}`)
  }
  // MQTT 5 §3.4.2.1: reason 0x00 without properties may be sent as 2, 3 or 4 bytes
  for (const body of [[0, 5], [0, 5, 0], [0, 5, 0, 0]]) {
    const bytes = Buffer.from([0x40, body.length, ...body])
    assert.deepStrictEqual(fast(bytes, 5).read, slow(bytes, 5), JSON.stringify(body))
  }
})

test('what is left to mqtt-packet: other types, a cut packet, QoS 3, a long length, MQTT 5 properties, a PUBACK with more than its id', () => {
  const left = (bytes: number[], version = 4): void => {
    assert.equal(fast(Buffer.from(bytes), version).stop, 0, `${JSON.stringify(bytes)} at ${version}`)
  }
  left([0xc0, 0]) // PINGREQ
  left([0x82, 5, 0, 1, 0, 1, 0x61]) // SUBSCRIBE (cut, and another type)
  left([0x30, 5, 0, 1, 0x61]) // a PUBLISH cut by the end of the read
  left([0x30]) // only its first byte
  left([0x30, 0x85]) // its length cut
  left([0x36, 3, 0, 1, 0x61]) // QoS 3
  left([0x30, 0x83, 0x00, 0, 1, 0x61]) // a length of 3 in two bytes
  left([0x30, 3, 0, 5, 0x61]) // a topic past the remaining length
  left([0x32, 3, 0, 1, 0x61]) // QoS 1 without room for a packet id
  left([0x30, 6, 0, 1, 0x61, 2, 0x01, 0x01], 5) // payload format indicator
  left([0x30, 3, 0, 1, 0x61], 5) // no property length at all
  left([0x40, 3, 0, 1, 0x10], 5) // PUBACK with reason 0x10
  left([0x41, 2, 0, 1]) // PUBACK with a reserved flag
  left([0x40, 3, 0, 1, 0]) // PUBACK of 3 bytes at 3.1.1
  left([0x40, 1, 0, 0xc0, 0], 5) // PUBACK of 1 byte (the next packet's bytes are not its id)
  left([0x40, 0, 0xc0, 0], 5)
  left([0x40, 4, 0, 1, 0, 1, 0x1f], 5) // PUBACK with a property
})

test('a read that ends inside a packet: the whole packets before it are read', () => {
  const one = gen({ cmd: 'publish', topic: 't', payload: Buffer.from('p'), qos: 1, messageId: 3, retain: false, dup: false }, 4)
  const bytes = Buffer.concat([one, one.subarray(0, 4)])
  const { read, stop } = fast(bytes, 4)
  assert.equal(read.length, 1)
  assert.equal(stop, one.length)
})
