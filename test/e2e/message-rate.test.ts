// max_message_rate: PUBLISHes past the rate wait for their second; nothing is
// dropped, order is kept, and `vmq-admin set` changes the rate at once.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

describe('max_message_rate = 10', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'max_message_rate = 10'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  async function flood (topic: string, count: number): Promise<number[]> {
    const sub = await connect(node.mqttUrl)
    const arrivals: Array<{ n: number, at: number }> = []
    sub.on('message', (_t, payload) => { arrivals.push({ n: Number(payload.toString()), at: Date.now() }) })
    await sub.subscribeAsync(topic, { qos: 0 })
    const pub = await connect(node.mqttUrl)
    for (let n = 1; n <= count; n++) pub.publish(topic, String(n), { qos: 0 })
    await waitFor(() => arrivals.length === count, 15000, `${count} messages`)
    assert.deepEqual(arrivals.map(a => a.n), Array.from({ length: count }, (_, i) => i + 1), 'all of them, in order')
    await endAll(sub, pub)
    return arrivals.map(a => a.at - arrivals[0].at)
  }

  it('25 QoS 0 PUBLISHes sent at once: 10 in the first second, then 10 a second later, then the rest; none lost', async () => {
    const times = await flood('rate/a', 25)
    // lower bounds only: the node holds each PUBLISH at least until its second begins
    assert.ok(times[10] >= 900, `the 11th came ${times[10]} ms after the first`)
    assert.ok(times[20] >= 1900, `the 21st came ${times[20]} ms after the first`)
  })

  it('`vmq-admin set max_message_rate=5` halves the rate for the next PUBLISHes', async () => {
    const set = await node.admin(['set', 'max_message_rate=5'])
    assert.equal(set.code, 0, set.stderr)
    const times = await flood('rate/b', 11)
    assert.ok(times[5] >= 900, `the 6th came ${times[5]} ms after the first`)
    assert.ok(times[10] >= 1900, `the 11th came ${times[10]} ms after the first`)
  })
})
