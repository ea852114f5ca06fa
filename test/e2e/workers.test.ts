import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor } from './helpers/processes.js'

describe('workers = 2: two broker processes behind one MQTT port', () => {
  it('spreads clients over both workers, routes between them, moves sessions, and stops cleanly', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'workers = 2'] })
    try {
      assert.match(node.stdout, new RegExp(`node ${node.nodename} started with 2 workers`))
      const worker1 = node.nodename.replace('@', '-w1@')
      await waitFor(async () => {
        const r = await node.admin(['cluster', 'show', '--format=json'])
        const rows = JSON.parse(r.stdout).table as Array<{ Node: string, Running: boolean }>
        return rows.length === 2 && rows.every(row => row.Running) && rows.some(row => row.Node === worker1)
      }, 10000, 'both workers running')
      // four subscribers: round robin puts two on each worker
      const subs = await Promise.all([0, 1, 2, 3].map(async i => await connect(node.mqttUrl, { clientId: `s${i}` })))
      const got = subs.map(collect)
      for (const s of subs) await s.subscribeAsync('w/#', { qos: 1 })
      const pub = await connect(node.mqttUrl)
      await pub.publishAsync('w/t', 'to all', { qos: 1 })
      await waitFor(() => got.every(g => g.length === 1), 5000, 'every subscriber on either worker')
      // a persistent session reconnecting lands on the other worker and keeps its queue
      const p1 = await connect(node.mqttUrl, { clientId: 'mover', clean: false })
      await p1.subscribeAsync('mv/#', { qos: 1 })
      await p1.endAsync()
      for (let i = 0; i < 10; i++) await pub.publishAsync('mv/t', String(i), { qos: 1 })
      const p2 = await connect(node.mqttUrl, { clientId: 'mover', clean: false })
      const moved = collect(p2)
      await waitFor(() => moved.length >= 10, 5000, 'the queued messages')
      assert.deepEqual(moved.map(m => m.payload), Array.from({ length: 10 }, (_, i) => String(i)))
      await endAll(...subs, pub, p2)
      // a setting reaches every worker, whichever answers the admin call
      const set = await node.admin(['set', 'max_client_id_size=40'])
      assert.equal(set.code, 0, set.stderr)
      const id = 'an-id-of-thirty-five-characters-xyz'
      // four connections: round robin sends two to each worker; any refusal rejects
      for (let i = 0; i < 4; i++) await (await connect(node.mqttUrl, { clientId: id })).endAsync(true)
      const refused = await node.admin(['listener', 'stop', 'address=127.0.0.1', `port=${node.mqttPort}`])
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /not available with workers > 1/)
      assert.equal(await node.stop(), 0)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
