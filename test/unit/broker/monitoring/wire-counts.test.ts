// The sent-packet counting follows packet boundaries in whatever pieces the
// bytes are written: several packets in one write (a corked connection),
// one packet over several writes (mqtt-packet's writeToStream), strings.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { Client } from 'aedes'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { BrokerCounters } from '../../../../src/broker/counters.js'
import { countWire } from '../../../../src/broker/monitoring/wire-counts.js'

/** A connection as aedes leaves it: a writable `conn` and the parser the received packets come from. */
function connection (): { client: Client, counters: BrokerCounters, parser: EventEmitter } {
  const conn = { write: (_chunk: unknown) => true }
  const parser = new EventEmitter() as EventEmitter & { client?: Client }
  const client = { conn, _parser: parser } as unknown as Client
  parser.client = client
  const counters = new BrokerCounters()
  countWire(client, counters)
  return { client, counters, parser }
}

function write (client: Client, chunk: Buffer | string): void {
  (client.conn as unknown as { write: (c: Buffer | string) => boolean }).write(chunk)
}

const V5_PACKETS: Packet[] = [
  { cmd: 'connack', sessionPresent: false, reasonCode: 0 },
  { cmd: 'suback', messageId: 1, granted: [1, 0x87] },
  { cmd: 'publish', topic: 't/'.repeat(100), payload: Buffer.alloc(300), qos: 1, messageId: 2, retain: false, dup: false },
  { cmd: 'puback', messageId: 3, reasonCode: 0 },
  { cmd: 'puback', messageId: 4, reasonCode: 0x10 },
  { cmd: 'pubrec', messageId: 5, reasonCode: 0x80 },
  { cmd: 'pubcomp', messageId: 6, reasonCode: 0x92 },
  { cmd: 'pingresp' },
  { cmd: 'unsuback', messageId: 7, granted: [0] } as unknown as Packet,
  { cmd: 'disconnect', reasonCode: 0x8e }
]

function expectV5 (counters: BrokerCounters): void {
  const sent = counters.packetsSent[1]
  assert.deepEqual([sent[2], sent[3], sent[9], sent[11], sent[13]], [1, 1, 1, 1, 1])
  assert.deepEqual([...counters.reasonCodesSent].sort((a, b) => a[0] - b[0]), [
    [4 * 256, 1], [4 * 256 + 0x10, 1], [5 * 256 + 0x80, 1], [7 * 256 + 0x92, 1], [14 * 256 + 0x8e, 1]
  ])
}

describe('wire counts', () => {
  const bytes = Buffer.concat(V5_PACKETS.map(p => mqttPacket.generate(p, { protocolVersion: 5 })))

  it('counts the packets of an MQTT 5 connection by type and reason code, the stream cut in two at every offset', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { client, counters, parser } = connection()
      parser.emit('packet', { cmd: 'connect', protocolVersion: 5 })
      write(client, bytes.subarray(0, cut))
      write(client, bytes.subarray(cut))
      expectV5(counters)
      assert.equal(counters.bytesSent, bytes.length)
    }
  })

  it('counts them written byte by byte, and as writeToStream writes them (strings included)', () => {
    const { client, counters, parser } = connection()
    parser.emit('packet', { cmd: 'connect', protocolVersion: 5 })
    for (let i = 0; i < bytes.length; i++) write(client, bytes.subarray(i, i + 1))
    expectV5(counters)
    const streamed = connection()
    streamed.parser.emit('packet', { cmd: 'connect', protocolVersion: 5 })
    for (const p of V5_PACKETS) mqttPacket.writeToStream(p, streamed.client.conn as unknown as NodeJS.WritableStream, { protocolVersion: 5 })
    expectV5(streamed.counters)
    assert.equal(streamed.counters.bytesSent, bytes.length)
  })

  it('counts 3.1.1 acknowledgements by type, and received packets by the version of the CONNECT', () => {
    const { client, counters, parser } = connection()
    parser.emit('packet', { cmd: 'connect', protocolVersion: 4 })
    parser.emit('packet', { cmd: 'subscribe' })
    parser.emit('packet', { cmd: 'puback', messageId: 1 })
    const publish = { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 9, retain: false }
    for (const p of [{ cmd: 'puback', messageId: 1 }, { cmd: 'pubrel', messageId: 2 }, { cmd: 'pingresp' }, { ...publish, dup: false }, { ...publish, dup: true }] as Packet[]) {
      write(client, mqttPacket.generate(p))
    }
    assert.deepEqual([counters.packetsReceived[0][1], counters.packetsReceived[0][8], counters.packetsReceived[0][4]], [1, 1, 1])
    assert.deepEqual([counters.packetsSent[0][4], counters.packetsSent[0][6], counters.packetsSent[0][13]], [1, 1, 1])
    // a PUBLISH sent again (DUP) is not counted with the others
    assert.deepEqual([counters.packetsSent[0][3], counters.publishResent[0]], [1, 1])
    assert.equal(counters.reasonCodesSent.size + counters.reasonCodesReceived.size, 0)
  })
})
