import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { collect, connackCode, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'
import { packetBytes, RawClient } from './helpers/raw.js'
import type { IPublishPacket } from 'mqtt-packet'

const OPEN = OPEN_ACCESS

describe('a three-node cluster', () => {
  const nodes: TestNode[] = []
  before(async () => {
    const n1 = await startNode({ conf: OPEN })
    nodes.push(n1)
    // node 2 joins through its config file, node 3 through the environment, as with Docker
    nodes.push(await startNode({ conf: [...OPEN, `discovery_node = ${n1.nodename.split('@')[0]}@127.0.0.1:${n1.adminPort}`] }))
    nodes.push(await startNode({ conf: OPEN, env: { DOCKER_VERNEMQ_DISCOVERY_NODE: `127.0.0.1:${n1.adminPort}` } }))
    const all = Object.fromEntries(nodes.map(n => [n.nodename, true]))
    for (const n of nodes) await waitMembers(n, all)
  })
  after(async () => {
    for (const n of nodes) { await n.stop(); n.cleanup() }
  })

  for (const qos of [0, 1, 2] as const) {
    it(`routes QoS ${qos} publishes between nodes, wildcards included`, async () => {
      const [a, b, c] = nodes
      const subB = await connect(b.mqttUrl)
      const subC = await connect(c.mqttUrl)
      const gotB = collect(subB)
      const gotC = collect(subC)
      await subB.subscribeAsync(`x${qos}/+/temp`, { qos })
      await subC.subscribeAsync(`x${qos}/#`, { qos })
      const pub = await connect(a.mqttUrl)
      await pub.publishAsync(`x${qos}/room1/temp`, 'hot', { qos })
      await waitFor(() => gotB.length === 1 && gotC.length === 1, 5000, 'both remote subscribers')
      assert.deepEqual(gotB[0], { topic: `x${qos}/room1/temp`, payload: 'hot', qos, retain: false })
      assert.deepEqual(gotC[0], { topic: `x${qos}/room1/temp`, payload: 'hot', qos, retain: false })
      await endAll(subB, subC, pub)
    })
  }

  it('a PUBLISH a client sends with its SUBSCRIBE, before the SUBACK (which waits for the peers), reaches that subscription', async () => {
    const raw = await RawClient.open(nodes[1].mqttPort, 'sends-at-once')
    await raw.next('connack')
    const packets: object[] = [
      { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'at-once/#', qos: 1 }] },
      { cmd: 'publish', messageId: 2, qos: 1, topic: 'at-once/x', payload: Buffer.from('mine'), retain: false, dup: false },
      { cmd: 'pingreq' }
    ]
    raw.sendBytes(packetBytes(packets))
    await raw.next('pingresp')
    assert.deepEqual(raw.packets.map(p => p.cmd === 'publish' ? `publish ${String(p.payload)}` : `${p.cmd} ${String((p as { messageId?: number }).messageId)}`),
      ['suback 1', 'puback 2', 'publish mine'])
    raw.socket.destroy()
  })

  it('a retained message set on one node is seen by a new subscriber on another', async () => {
    const [a, , c] = nodes
    const pub = await connect(a.mqttUrl)
    await pub.publishAsync('ret/cluster', 'everywhere', { qos: 1, retain: true })
    const sub = await connect(c.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('ret/cluster', { qos: 1 })
    await waitFor(() => got.length === 1, 5000, 'the retained message')
    assert.deepEqual(got[0], { topic: 'ret/cluster', payload: 'everywhere', qos: 1, retain: true })
    await endAll(pub, sub)
  })

  it('a node that joins later receives the retained messages', async () => {
    const late = await startNode({ conf: [...OPEN, `discovery_node = ${nodes[1].adminAddress}`] })
    try {
      await waitMembers(late, Object.fromEntries([...nodes, late].map(n => [n.nodename, true])))
      const sub = await connect(late.mqttUrl)
      const got = collect(sub)
      await sub.subscribeAsync('ret/cluster', { qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'the retained message on the late node')
      assert.equal(got[0].payload, 'everywhere')
      await sub.endAsync(true)
      const r = await late.admin(['cluster', 'leave', `node=${late.nodename}`, '-k'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(await late.waitExit(), 0)
      for (const n of nodes) await waitMembers(n, Object.fromEntries(nodes.map(m => [m.nodename, true])))
    } finally {
      await late.stop()
      late.cleanup()
    }
  })

  it('takes over a persistent session from another node with its queued messages', async () => {
    const [a, b] = nodes
    const first = await connect(a.mqttUrl, { clientId: 'roamer', clean: false })
    await first.subscribeAsync('roam/#', { qos: 1 })
    await first.endAsync()
    const pub = await connect(b.mqttUrl)
    for (let i = 0; i < 100; i++) await pub.publishAsync('roam/t', String(i), { qos: 1 })
    const second = await connect(b.mqttUrl, { clientId: 'roamer', clean: false })
    const got = collect(second)
    await waitFor(() => got.length >= 100, 10000, '100 queued messages')
    assert.deepEqual(got.map(m => m.payload), Array.from({ length: 100 }, (_, i) => String(i)))
    await endAll(pub, second)
  })

  it('two persistent sessions swapping nodes at the same moment both get their queues', async () => {
    const [a, b] = nodes
    for (const [id, node] of [['swapA', a], ['swapB', b]] as const) {
      const c = await connect(node.mqttUrl, { clientId: id, clean: false })
      await c.subscribeAsync(`swap/${id}`, { qos: 1 })
      await c.endAsync()
    }
    const pub = await connect(a.mqttUrl)
    for (let i = 0; i < 20; i++) for (const id of ['swapA', 'swapB']) await pub.publishAsync(`swap/${id}`, String(i), { qos: 1 })
    // each takeover is a request to the other node while that node makes its own
    const [onB, onA] = await Promise.all([connect(b.mqttUrl, { clientId: 'swapA', clean: false }), connect(a.mqttUrl, { clientId: 'swapB', clean: false })])
    const [gotA, gotB] = [collect(onB), collect(onA)]
    await waitFor(() => gotA.length >= 20 && gotB.length >= 20, 4000, `both queues (got ${gotA.length} and ${gotB.length})`)
    const expected = Array.from({ length: 20 }, (_, i) => String(i))
    assert.deepEqual([gotA.map(m => m.payload), gotB.map(m => m.payload)], [expected, expected])
    await endAll(pub, onA, onB)
  })

  it('a takeover hands over the messages sent on the old connection and not acknowledged', async () => {
    const [a, b] = nodes
    const first = await RawClient.open(a.mqttPort, 'unacked', { clean: false })
    await first.next('connack')
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'unacked/t', qos: 1 }] })
    await first.next('suback')
    const pub = await connect(a.mqttUrl)
    for (let i = 0; i < 3; i++) await pub.publishAsync('unacked/t', `u${i}`, { qos: 1 })
    await first.waitCount('publish', 3)
    // never acknowledged: the client moves to node B
    const second = await RawClient.open(b.mqttPort, 'unacked', { clean: false })
    await second.next('connack')
    const again = await second.waitCount('publish', 3, 5000) as IPublishPacket[]
    assert.deepEqual(again.map(p => p.payload.toString()), ['u0', 'u1', 'u2'])
    first.close()
    second.close()
    await endAll(pub)
  })

  it('disconnects a client id that connects on another node', async () => {
    const [a, , c] = nodes
    const first = await connect(a.mqttUrl, { clientId: 'twice' })
    let closed = false
    first.on('close', () => { closed = true })
    const second = await connect(c.mqttUrl, { clientId: 'twice' })
    await waitFor(() => closed, 5000, 'the first connection to be closed')
    assert.equal(second.connected, true)
    await endAll(first, second)
  })

  it('refuses a join with a wrong cookie (exit 2) and a self join (exit 1)', async () => {
    const stranger = await startNode({ conf: [...OPEN, 'distributed_cookie = other'] })
    try {
      const wrong = await stranger.admin(['cluster', 'join', `discovery-node=${nodes[0].adminAddress}`, '--cookie', 'other'])
      assert.deepEqual([wrong.code, wrong.stdout, wrong.stderr], [2, '', `RPC to '${stranger.adminAddress}' failed: ${nodes[0].adminAddress} refused the join: wrong distributed_cookie\n`])
      const self = await stranger.admin(['cluster', 'join', `discovery-node=${stranger.adminAddress}`, '--cookie', 'other'])
      assert.deepEqual([self.code, self.stdout, self.stderr], [1, '', 'self_join: a node cannot join itself\n'])
      // the discovery node refuses a node of its own name: exit 1 too
      const twin = await startNode({ conf: OPEN, name: nodes[0].nodename })
      try {
        const same = await twin.admin(['cluster', 'join', `discovery-node=${nodes[0].adminAddress}`])
        assert.deepEqual([same.code, same.stdout, same.stderr], [1, '', `${nodes[0].adminAddress} refused the join: self_join: ${nodes[0].nodename} is this node\n`])
      } finally {
        await twin.stop()
        twin.cleanup()
      }
    } finally {
      await stranger.stop()
      stranger.cleanup()
    }
  })
})

