// One persistent session with tens of thousands of filters, many of them in a
// single SUBSCRIBE (each used to cost a check and a store write per filter of
// the packet): every filter is granted, kept across a reconnect, and matches.
// How fast and how much memory: bench/subscriptions.ts.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { collect, connect } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

const FILTERS = 20_000
const PER_PACKET = 5_000

describe('a persistent session with 20,000 filters', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => {
    await node.stop()
    node.cleanup()
  })

  it('gets every filter granted in SUBSCRIBEs of 5,000, keeps them across a reconnect, and receives on the last', async () => {
    const client = await connect(node.mqttUrl, { clientId: 'many-filters', clean: false })
    for (let start = 0; start < FILTERS; start += PER_PACKET) {
      const topics: Record<string, { qos: 1 }> = {}
      for (let i = start; i < start + PER_PACKET; i++) topics[`dev/${i}/+/x`] = { qos: 1 }
      const granted = await client.subscribeAsync(topics)
      assert.equal(granted.length, PER_PACKET)
      assert.ok(granted.every(g => g.qos === 1), 'every filter granted QoS 1')
    }
    await client.endAsync()
    const back = await connect(node.mqttUrl, { clientId: 'many-filters', clean: false })
    const got = collect(back)
    const publisher = await connect(node.mqttUrl)
    await publisher.publishAsync(`dev/${FILTERS - 1}/a/x`, 'last', { qos: 1 })
    await publisher.publishAsync('dev/0/b/x', 'first', { qos: 1 })
    await waitFor(() => got.length === 2, 10_000, 'two messages on the restored filters')
    assert.deepEqual(got.map(m => m.payload).sort(), ['first', 'last'])
    await back.endAsync()
    await publisher.endAsync()
  })
})
