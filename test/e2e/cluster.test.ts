import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { collect, connackCode, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

const OPEN = OPEN_ACCESS

async function members (node: TestNode): Promise<Record<string, boolean>> {
  const r = await node.admin(['cluster', 'show', '--format=json'])
  if (r.code !== 0) throw new Error(r.stderr)
  return Object.fromEntries((JSON.parse(r.stdout).table as Array<{ Node: string, Running: boolean }>).map(row => [row.Node, row.Running]))
}

async function waitMembers (node: TestNode, expected: Record<string, boolean>, timeoutMs = 5000): Promise<void> {
  let last: Record<string, boolean> = {}
  await waitFor(async () => {
    last = await members(node)
    return JSON.stringify(Object.entries(last).sort()) === JSON.stringify(Object.entries(expected).sort())
  }, timeoutMs, `cluster show on ${node.nodename} to be ${JSON.stringify(expected)} (last ${JSON.stringify(last)})`)
}

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

  it('refuses a join with a wrong cookie and a self join', async () => {
    const stranger = await startNode({ conf: [...OPEN, 'distributed_cookie = other'] })
    try {
      const wrong = await stranger.admin(['cluster', 'join', `discovery-node=${nodes[0].adminAddress}`, '--cookie', 'other'])
      assert.notEqual(wrong.code, 0)
      assert.match(wrong.stderr, /wrong distributed_cookie/)
      const self = await stranger.admin(['cluster', 'join', `discovery-node=${stranger.adminAddress}`, '--cookie', 'other'])
      assert.notEqual(self.code, 0)
      assert.match(self.stderr, /self_join/)
    } finally {
      await stranger.stop()
      stranger.cleanup()
    }
  })
})

describe('a member that dies', () => {
  it('shows Running false, blocks new connections during the netsplit, and heals after a restart', async () => {
    const n1 = await startNode({ conf: OPEN })
    const n2 = await startNode({ conf: [...OPEN, `discovery_node = ${n1.adminAddress}`] })
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
    await n2.kill()
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: false }, 5000)
    assert.equal(await connackCode(n1.mqttUrl), 3, 'allow_register_during_netsplit = off')
    const set = await n1.admin(['set', 'allow_register_during_netsplit=on'])
    assert.equal(set.code, 0, set.stderr)
    assert.equal(await connackCode(n1.mqttUrl), 0)
    const { spawn } = await import('node:child_process')
    const { VMQ } = await import('./helpers/processes.js')
    // same config and data dir: it finds its cluster again by itself
    const proc = spawn(process.execPath, [VMQ, 'start', '-c', n2.confFile], { cwd: n2.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
      const sub = await connect(`mqtt://127.0.0.1:${n2.mqttPort}`)
      const got = collect(sub)
      await sub.subscribeAsync('heal/t', { qos: 1 })
      const pub = await connect(n1.mqttUrl)
      await pub.publishAsync('heal/t', 'healed', { qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'routing after the restart')
      await endAll(sub, pub)
    } finally {
      proc.kill('SIGTERM')
      await new Promise(resolve => proc.on('exit', resolve))
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})

describe('netsplit rules and leaving', () => {
  it('during a netsplit: publish and subscribe follow their allow_*_during_netsplit flags; cluster leave removes the dead member', async () => {
    const n1 = await startNode({ conf: [...OPEN, 'allow_register_during_netsplit = on'] })
    const n2 = await startNode({ conf: [...OPEN, `discovery_node = ${n1.adminAddress}`] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      const sub = await connect(n1.mqttUrl)
      const got = collect(sub)
      await sub.subscribeAsync('split/t', { qos: 1 })
      const pub = await connect(n1.mqttUrl)
      await n2.kill()
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: false })
      // publish: QoS 1 not acknowledged and not delivered; subscribe: refused
      let acked = false
      pub.publish('split/t', 'during', { qos: 1 }, () => { acked = true })
      const granted = await sub.subscribeAsync('split/other', { qos: 1 }).then(g => g[0].qos, (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0])
      assert.equal(granted, 128)
      await n1.admin(['set', 'allow_publish_during_netsplit=on', 'allow_subscribe_during_netsplit=on'])
      await pub.publishAsync('split/t', 'allowed', { qos: 1 })
      await waitFor(() => got.some(m => m.payload === 'allowed'), 5000, 'the allowed publish')
      assert.equal(got.some(m => m.payload === 'during'), false)
      assert.equal(acked, false)
      assert.equal((await sub.subscribeAsync('split/other', { qos: 1 }))[0].qos, 1)
      pub.end(true)
      // the dead member is removed: the cluster is whole again
      await n1.admin(['set', 'allow_publish_during_netsplit=off'])
      const left = await n1.admin(['cluster', 'leave', `node=${n2.nodename}`])
      assert.equal(left.code, 0, left.stderr)
      assert.equal(left.stdout.trim(), 'Done')
      await waitMembers(n1, { [n1.nodename]: true })
      const pub2 = await connect(n1.mqttUrl)
      await pub2.publishAsync('split/t', 'after', { qos: 1 })
      await waitFor(() => got.some(m => m.payload === 'after'), 5000, 'a publish after the leave')
      await endAll(sub, pub2)
    } finally {
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })

  it('cluster leave -k moves 1,000 offline messages to the remaining member, none lost', async () => {
    const n1 = await startNode({ conf: OPEN })
    const n2 = await startNode({ conf: [...OPEN, `discovery_node = ${n1.adminAddress}`, 'max_offline_messages = -1'] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      const offline = await connect(n2.mqttUrl, { clientId: 'parked', clean: false })
      await offline.subscribeAsync('park/#', { qos: 1 })
      await offline.endAsync()
      const pub = await connect(n2.mqttUrl)
      for (let i = 0; i < 1000; i++) await pub.publishAsync('park/m', String(i), { qos: 1 })
      await pub.endAsync(true)
      const r = await n1.admin(['cluster', 'leave', `node=${n2.nodename}`, '-k'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /Migrated 1\/1 queues and 1000 messages/)
      assert.equal(r.stdout.trim().split('\n').at(-1), 'Done')
      assert.equal(await n2.waitExit(), 0)
      await waitMembers(n1, { [n1.nodename]: true })
      const back = await connect(n1.mqttUrl, { clientId: 'parked', clean: false })
      const got = collect(back)
      await waitFor(() => got.length >= 1000, 10000, '1,000 migrated messages')
      assert.deepEqual(got.map(m => m.payload), Array.from({ length: 1000 }, (_, i) => String(i)))
      await back.endAsync(true)
    } finally {
      await n1.stop()
      await n2.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})

describe('cluster commands with bad input', () => {
  it('join without or with a malformed discovery node, leave without a node: exit 1 with the reason', async () => {
    const node = await startNode({ conf: OPEN })
    try {
      const missing = await node.admin(['cluster', 'join'])
      assert.equal(missing.code, 1)
      assert.equal(missing.stderr.trim(), 'You have to provide a discovery node (example discovery-node=vernemq1@127.0.0.1)')
      const malformed = await node.admin(['cluster', 'join', 'discovery-node=a@@b:x'])
      assert.equal(malformed.code, 1)
      assert.match(malformed.stderr, /invalid node "a@@b:x": expected name@host, name@host:port or host:port/)
      const unreachable = await node.admin(['cluster', 'join', 'discovery-node=127.0.0.1:1'])
      assert.notEqual(unreachable.code, 0)
      assert.match(unreachable.stderr, /not_reachable: no node answers at 127.0.0.1:1/)
      const leave = await node.admin(['cluster', 'leave'])
      assert.equal(leave.code, 1)
      assert.equal(leave.stderr.trim(), 'You have to provide a node')
      const unknown = await node.admin(['cluster', 'leave', 'node=ghost@127.0.0.1'])
      assert.notEqual(unknown.code, 0)
      assert.match(unknown.stderr, /ghost@127.0.0.1 is not a member of this cluster/)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})

describe('removing a dead member', () => {
  it('re-homes its persistent sessions: they collect messages again and their client finds them', async () => {
    const n1 = await startNode({ conf: OPEN })
    const n2 = await startNode({ conf: [...OPEN, `discovery_node = ${n1.adminAddress}`, 'allow_register_during_netsplit = on'] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      const c = await connect(n2.mqttUrl, { clientId: 'homeless', clean: false })
      await c.subscribeAsync('home/#', { qos: 1 })
      await c.endAsync()
      await n2.kill()
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: false })
      const r = await n1.admin(['cluster', 'leave', `node=${n2.nodename}`])
      assert.equal(r.code, 0, r.stderr)
      const pub = await connect(n1.mqttUrl)
      await pub.publishAsync('home/t', 'kept for you', { qos: 1 })
      const back = await connect(n1.mqttUrl, { clientId: 'homeless', clean: false })
      const got = collect(back)
      await waitFor(() => got.length === 1, 5000, 'the message queued after re-homing')
      assert.equal(got[0].payload, 'kept for you')
      await endAll(pub, back)
    } finally {
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})
