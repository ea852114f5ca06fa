// The online queue bounded by bytes: a subscriber that reads but never
// acknowledges its QoS 1 messages fills its inflight window, and with
// max_online_messages = -1 only outgoing_buffer_limit bounds what waits behind
// it. Large messages beyond that are dropped by queue_type, counted in
// queue_message_drop and logged once per connection; the node's memory stays
// bounded.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { MqttClient } from 'mqtt'
import type { IPublishPacket } from 'mqtt-packet'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { metric } from './helpers/prom.js'
import { consoleLog, count, pause, publishes, QUIET_MS, rawSubscriber } from './helpers/queue.js'
import type { RawClient } from './helpers/raw.js'

const TOPIC = 'big/t'
const PAYLOAD_BYTES = 1024 * 1024
/** 8 MB; a waiting message holds payload + topic = 1,048,581 bytes, so 7 fit (7,340,067) and an 8th would pass it (8,388,648) */
const LIMIT = 8 * 1024 * 1024
const FIT = Math.floor(LIMIT / (PAYLOAD_BYTES + TOPIC.length))
/** messages published behind the one in flight: 300 MB, which an unbounded queue would keep */
const BEHIND = 300

/** A 1 MB payload whose first 4 bytes are its number. */
function payload (n: number): Buffer {
  const bytes = Buffer.alloc(PAYLOAD_BYTES, 0x61)
  bytes.writeUInt32BE(n, 0)
  return bytes
}

function numbers (packets: IPublishPacket[]): number[] {
  return packets.map(p => Buffer.from(p.payload).readUInt32BE(0))
}

/** The node process' resident memory in bytes (Linux). */
function rss (node: TestNode): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${node.proc.pid ?? 0}/status`, 'utf8'))
  return match === null ? 0 : Number(match[1]) * 1024
}

describe(`a subscriber that reads but never acknowledges (max_inflight_messages = 1, max_online_messages = -1, outgoing_buffer_limit = ${LIMIT})`, () => {
  let node: TestNode
  let httpPort: number
  before(async () => {
    node = await startNode({
      conf: [...OPEN_ACCESS, 'max_inflight_messages = 1', 'max_online_messages = -1', `outgoing_buffer_limit = ${LIMIT}`,
        'retry_interval = 600', 'listener.http.default = 127.0.0.1:0']
    })
    httpPort = node.port('http.default')
  })
  after(async () => { await node.stop(); node.cleanup() })

  /**
   * Message 0 goes in flight and is read (nothing is left pending on the
   * connection), then messages 1..BEHIND are published one at a time; returns
   * the highest RSS seen meanwhile, above the RSS before.
   */
  async function flood (sub: RawClient, pub: MqttClient): Promise<number> {
    await pub.publishAsync(TOPIC, payload(0), { qos: 1 })
    await sub.waitCount('publish', 1, 10000)
    const start = rss(node)
    let peak = start
    for (let n = 1; n <= BEHIND; n++) {
      await pub.publishAsync(TOPIC, payload(n), { qos: 1 })
      if (n % 10 === 0) peak = Math.max(peak, rss(node))
    }
    return peak - start
  }

  /** Acknowledges each PUBLISH as it comes until `n` came; then nothing more may come. */
  async function ackAll (sub: RawClient, n: number): Promise<IPublishPacket[]> {
    const acked = new Set<number>()
    await waitFor(() => {
      for (const p of publishes(sub)) {
        if (acked.has(p.messageId ?? 0)) continue
        acked.add(p.messageId ?? 0)
        sub.send({ cmd: 'puback', messageId: p.messageId })
      }
      return publishes(sub).length >= n
    }, 20000, `${n} messages (got ${publishes(sub).length})`)
    await pause(QUIET_MS)
    return publishes(sub)
  }

  it('fifo: the messages past the limit are dropped, counted exactly and logged once; the node does not keep them; the 7 that waited arrive', async () => {
    assert.equal(FIT, 7)
    const dropsBefore = await metric(node, httpPort, 'queue_message_drop')
    const sub = await rawSubscriber(node, 'bytes-fifo', TOPIC, 1)
    const pub = await connect(node.mqttUrl)
    const grew = await flood(sub, pub)
    await waitFor(async () => await metric(node, httpPort, 'queue_message_drop') - dropsBefore === BEHIND - FIT, 10000, 'the drops counted')
    assert.ok(grew < 100 * 1024 * 1024, `RSS grew by ${Math.round(grew / 1024 / 1024)} MB while ${BEHIND} MB were published`)
    const log = consoleLog(node)
    assert.equal(count(log, 'message dropped: online queue full (outgoing_buffer_limit); further drops for this connection are counted (queue_message_drop)'), 1)
    assert.equal(log.split('\n').filter(line => line.includes('online queue full') && line.includes('client=bytes-fifo ')).length, 1)
    const got = await ackAll(sub, 1 + FIT)
    assert.deepEqual(numbers(got), [0, 1, 2, 3, 4, 5, 6, 7], 'the first ones that waited; the new ones were dropped')
    assert.equal(await metric(node, httpPort, 'queue_message_drop') - dropsBefore, BEHIND - FIT)
    sub.close()
    await endAll(pub)
  })

  it('lifo: the oldest waiting messages are dropped instead, so the 7 newest arrive', async () => {
    const set = await node.admin(['set', 'queue_type=lifo'])
    assert.equal(set.code, 0, set.stderr)
    const dropsBefore = await metric(node, httpPort, 'queue_message_drop')
    const sub = await rawSubscriber(node, 'bytes-lifo', TOPIC, 1)
    const pub = await connect(node.mqttUrl)
    await flood(sub, pub)
    await waitFor(async () => await metric(node, httpPort, 'queue_message_drop') - dropsBefore === BEHIND - FIT, 10000, 'the drops counted')
    const got = await ackAll(sub, 1 + FIT)
    assert.deepEqual(numbers(got), [0, ...Array.from({ length: FIT }, (_, i) => BEHIND - FIT + 1 + i)])
    assert.equal(await metric(node, httpPort, 'queue_message_drop') - dropsBefore, BEHIND - FIT)
    sub.close()
    await endAll(pub)
  })
})
