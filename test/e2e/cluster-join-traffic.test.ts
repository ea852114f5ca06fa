import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'

const BATCH = 50
const BATCH_EVERY_MS = 20
/** 30 s: a node starts slowly on a loaded machine */
const MAX_BATCHES = 1500
/** batches published after the join completed */
const AFTER_JOIN = 20

describe('a member joining', () => {
  const nodes: TestNode[] = []
  after(async () => {
    for (const n of nodes) { await n.stop(); n.cleanup() }
  })

  it('does not make the existing node drop or hold back the publishes of its clients', async () => {
    // no online queue limit: on a loaded machine the subscriber (in this process) falls
    // behind, and drops for a full queue (counted, logged) are not what a join causes
    const a = await startNode({ conf: [...OPEN_ACCESS, 'max_online_messages = -1'] })
    nodes.push(a)
    const sub = await connect(a.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('join/traffic', { qos: 1 })
    const pub = await connect(a.mqttUrl)
    let sent = 0
    let acked = 0
    let joined = false
    let afterJoin = 0
    const joining = startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] }).then(async b => {
      nodes.push(b)
      await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10_000)
      joined = true
    })
    for (let batch = 0; batch < MAX_BATCHES && afterJoin < AFTER_JOIN; batch++) {
      for (let i = 0; i < BATCH; i++) {
        sent++
        pub.publish('join/traffic', String(sent), { qos: 1 }, err => { if (err === undefined || err === null) acked++ })
      }
      if (joined) afterJoin++
      await new Promise(resolve => setTimeout(resolve, BATCH_EVERY_MS))
    }
    await joining
    assert.equal(afterJoin, AFTER_JOIN, `the new member joined while publishing went on (${sent} published)`)
    await waitFor(() => acked === sent && got.length === sent, 10_000, `all ${sent} publishes acknowledged and delivered (acked ${acked}, delivered ${got.length})`)
    assert.deepEqual(got.map(m => Number(m.payload)), Array.from({ length: sent }, (_, i) => i + 1))
    await endAll(sub, pub)
  })
})
