// Routed publishes of any size the protocol allows: a batch of publishes is one
// gRPC message on the link, which the member's server must be able to read.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'

describe('large routed publishes', () => {
  let a: TestNode
  let b: TestNode
  before(async () => {
    a = await startNode({ conf: OPEN_ACCESS })
    b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] })
    await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10_000)
  })
  after(async () => {
    for (const n of [a, b]) {
      await n.stop()
      n.cleanup()
    }
  })

  async function subscriber (topic: string): Promise<{ client: MqttClient, got: Buffer[] }> {
    const client = await connect(b.mqttUrl)
    const got: Buffer[] = []
    client.on('message', (_t, payload) => { got.push(payload) })
    await client.subscribeAsync(topic, { qos: 1 })
    return { client, got }
  }

  it('a 5 MB QoS 1 message and a 20 MB QoS 0 message cross to the other member whole, and the link stays up for the next one', async () => {
    const { client: sub, got } = await subscriber('big/t')
    const pub = await connect(a.mqttUrl)
    const five = randomBytes(5 * 1024 * 1024)
    const twenty = randomBytes(20 * 1024 * 1024)
    await pub.publishAsync('big/t', five, { qos: 1 })
    await pub.publishAsync('big/t', twenty, { qos: 0 })
    await pub.publishAsync('big/t', 'small', { qos: 1 })
    await waitFor(() => got.length === 3, 20_000, `3 messages (got ${got.length})`)
    assert.ok(got[0].equals(five))
    assert.ok(got[1].equals(twenty))
    assert.equal(got[2].toString(), 'small')
    assert.equal(a.stdout.includes('cluster member unreachable'), false, a.stdout)
    await endAll(pub, sub)
  })

  it('many 300 KB messages in one burst arrive in order, none dropped', async () => {
    const { client: sub, got } = await subscriber('burst/t')
    const pub = await connect(a.mqttUrl)
    const payloads = Array.from({ length: 40 }, (_, i) => Buffer.concat([Buffer.from(`m${i}:`), randomBytes(300 * 1024)]))
    await Promise.all(payloads.map(async p => await pub.publishAsync('burst/t', p, { qos: 1 })))
    await waitFor(() => got.length === payloads.length, 20_000, `${payloads.length} messages (got ${got.length})`)
    assert.deepEqual(got.map(p => p.subarray(0, 4).toString().split(':')[0]), payloads.map((_, i) => `m${i}`))
    const metrics = await a.admin(['metrics', 'show'])
    assert.ok(metrics.stdout.split('\n').includes('counter.cluster_routed_dropped = 0'), metrics.stdout)
    await endAll(pub, sub)
  })
})
