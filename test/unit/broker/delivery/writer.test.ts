// The writer's slow-consumer policy on a stand-in connection: past
// outgoing_buffer_limit pending bytes the connection is closed once, with a
// reason (MQTT 5), a warning and a counter.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { Client } from 'aedes'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { BrokerCounters } from '../../../../src/broker/counters.js'
import { ConnectionWriter } from '../../../../src/broker/delivery/writer.js'
import { fakeLog, settings, type LogLine } from './fakes.js'

class Conn extends EventEmitter {
  writableLength = 0
  readonly chunks: Buffer[] = []
  ended = false
  write (chunk: Buffer | string): boolean {
    this.chunks.push(Buffer.from(chunk))
    return true
  }

  end (): void {
    this.ended = true
    this.emit('close')
  }
}

function connection (version: number): { client: Client, conn: Conn } {
  const conn = new Conn()
  const client = { id: 'slow', version, connected: true, closed: false, conn, close () {} } as unknown as Client
  return { client, conn }
}

function parsed (conn: Conn, version: number): Packet[] {
  const packets: Packet[] = []
  const parser = mqttPacket.parser({ protocolVersion: version })
  parser.on('packet', p => packets.push(p))
  parser.parse(Buffer.concat(conn.chunks))
  return packets
}

test('past outgoing_buffer_limit the connection is closed once: MQTT 5 DISCONNECT 0x97, a warning, slowConsumersClosed', () => {
  for (const version of [4, 5]) {
    const { client, conn } = connection(version)
    const counters = new BrokerCounters()
    const log: LogLine[] = []
    const writer = new ConnectionWriter(client, { settings: settings({ outgoingBufferLimit: 1000 }), counters, log: fakeLog(log) })
    conn.writableLength = 1000
    assert.equal(writer.notReading(), false, 'at the limit it is still reading')
    conn.writableLength = 1001
    assert.equal(writer.notReading(), true)
    assert.equal(writer.notReading(), true, 'and stays closed')
    assert.equal(conn.ended, true)
    assert.equal(counters.slowConsumersClosed, 1)
    assert.deepEqual(log.map(l => [l.level, l.fields]), [['warn', { client: 'slow', pending: 1001, limit: 1000 }]])
    assert.equal(log[0].message, 'closing the connection of a client that is not reading: more bytes wait to be written to it than outgoing_buffer_limit')
    const sent = parsed(conn, version)
    if (version === 5) assert.deepEqual(sent.map(p => [p.cmd, (p as { reasonCode?: number }).reasonCode]), [['disconnect', 0x97]])
    else assert.deepEqual(sent, [], 'MQTT 3.1.1 has no server DISCONNECT')
  }
})

test('outgoing_buffer_limit = 0: no limit', () => {
  const { client, conn } = connection(4)
  const counters = new BrokerCounters()
  const writer = new ConnectionWriter(client, { settings: settings({ outgoingBufferLimit: 0 }), counters, log: fakeLog([]) })
  conn.writableLength = 100_000_000
  assert.equal(writer.notReading(), false)
  assert.equal(conn.ended, false)
  assert.equal(counters.slowConsumersClosed, 0)
})

test('retries are written with DUP and the packet id; PUBREL with its packet id', () => {
  const { client, conn } = connection(4)
  const writer = new ConnectionWriter(client, { settings: settings(), counters: new BrokerCounters(), log: fakeLog([]) })
  writer.publishAgain({ topic: 'r/t', payload: Buffer.from('again'), qos: 1, retain: false }, 1, 42)
  writer.pubrel(43)
  const sent = parsed(conn, 4)
  assert.deepEqual(sent.map(p => [p.cmd, (p as { messageId?: number }).messageId, (p as { dup?: boolean }).dup]), [['publish', 42, true], ['pubrel', 43, false]])
})
