// expire_retain_cache: expired retained messages (MQTT 5 Message Expiry
// Interval) are deleted from the store every that many seconds.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

async function retainedStored (node: TestNode): Promise<number | undefined> {
  const r = await node.admin(['metrics', 'show', '--format=json'])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { table: Array<{ name: string, value: number }> }).table.find(row => row.name === 'retain_messages')?.value
}

describe('expire_retain_cache', () => {
  it('= 1: a retained message whose expiry passed is deleted from the store; one without expiry stays', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'expire_retain_cache = 1'] })
    try {
      const pub = await connect(node.mqttUrl, { protocolVersion: 5 })
      await pub.publishAsync('exp/short', 'brief', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } })
      await pub.publishAsync('exp/kept', 'lasting', { qos: 1, retain: true })
      assert.equal(await retainedStored(node), 2)
      await waitFor(async () => await retainedStored(node) === 1, 5000, 'retain_messages 1')
      const sub = await connect(node.mqttUrl, { protocolVersion: 5 })
      const got: string[] = []
      sub.on('message', topic => { got.push(topic) })
      await sub.subscribeAsync('exp/#', { qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'the kept retained message')
      assert.deepEqual(got, ['exp/kept'])
      await endAll(pub, sub)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
