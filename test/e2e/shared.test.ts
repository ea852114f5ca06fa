import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { collect, connect, endAll, grantedQos, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'
import type { Packet } from 'mqtt-packet'

/** Publishes `count` numbered QoS 1 messages and checks each reached exactly one member. */
async function checkOncePerGroup (publisher: MqttClient, topic: string, members: Received[][], count: number): Promise<void> {
  for (let i = 0; i < count; i++) await publisher.publishAsync(topic, String(i), { qos: 1 })
  await waitFor(() => members.reduce((n, m) => n + m.length, 0) >= count, 10000, `${count} deliveries`)
  const all = members.flat().map(m => Number(m.payload)).sort((a, b) => a - b)
  assert.deepEqual(all, Array.from({ length: count }, (_, i) => i), 'each message exactly once')
  assert.ok(members.every(m => m.length > 0), `every member got some (${members.map(m => m.length).join(', ')})`)
}

describe('shared subscriptions on one node', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('gives each message to one member of the group, and to every plain subscriber', async () => {
    const members = await Promise.all([0, 1, 2].map(async () => await connect(node.mqttUrl)))
    const got = members.map(collect)
    for (const m of members) assert.equal(await grantedQos(m, '$share/workers/jobs/+', 1), 1)
    const plain = await connect(node.mqttUrl)
    const plainGot = collect(plain)
    await plain.subscribeAsync('jobs/#', { qos: 1 })
    const pub = await connect(node.mqttUrl)
    await checkOncePerGroup(pub, 'jobs/a', got, 300)
    await waitFor(() => plainGot.length === 300, 5000, 'the plain subscriber')
    await endAll(...members, plain, pub)
  })

  it('never sends retained messages to a shared subscription', async () => {
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('kept/x', 'retained', { qos: 1, retain: true })
    const member = await connect(node.mqttUrl)
    const got = collect(member)
    const plain = await connect(node.mqttUrl)
    const plainGot = collect(plain)
    await member.subscribeAsync('$share/g/kept/#', { qos: 1 })
    await plain.subscribeAsync('kept/#', { qos: 1 })
    await waitFor(() => plainGot.length === 1, 5000, 'the retained message on the plain subscription')
    await pub.publishAsync('kept/x', 'live', { qos: 1 })
    await waitFor(() => got.length === 1, 5000, 'the live message')
    assert.deepEqual(got.map(m => m.payload), ['live'])
    await endAll(pub, member, plain)
  })

  it('refuses invalid shared filters', async () => {
    const c = await RawClient.open(node.mqttPort)
    await c.next('connack')
    let messageId = 1
    // well-formed filters that are not valid shared subscriptions: SUBACK 0x80
    for (const topic of ['$share/g', '$share/+/t']) {
      c.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos: 1 }] } as Packet)
      const suback = await c.next('suback') as { granted: number[] }
      assert.deepEqual(suback.granted, [128], topic)
      messageId++
    }
    c.close()
    // a wildcard inside a level is a malformed filter: the connection is closed
    const d = await RawClient.open(node.mqttPort)
    await d.next('connack')
    d.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g+/t', qos: 1 }] } as Packet)
    await waitFor(() => d.closed, 5000, 'the connection to be closed')
    assert.equal(d.packets.filter(p => p.cmd === 'suback').length, 0)
  })
})

describe('shared subscriptions across a cluster', () => {
  const nodes: TestNode[] = []
  before(async () => {
    nodes.push(await startNode({ conf: OPEN_ACCESS }))
    for (let i = 0; i < 2; i++) nodes.push(await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${nodes[0].adminAddress}`] }))
    await waitFor(async () => {
      const r = await nodes[2].admin(['cluster', 'show', '--format=json'])
      return r.code === 0 && (JSON.parse(r.stdout).table as Array<{ Running: boolean }>).filter(row => row.Running).length === 3
    }, 10000, 'three running members')
  })
  after(async () => { for (const n of nodes) { await n.stop(); n.cleanup() } })

  it('delivers each of 300 messages exactly once to a group spread over three nodes (random policy)', async () => {
    for (const n of nodes) {
      const r = await n.admin(['set', 'shared_subscription_policy=random'])
      assert.equal(r.code, 0, r.stderr)
    }
    const members = await Promise.all(nodes.map(async n => await connect(n.mqttUrl)))
    const got = members.map(collect)
    for (const m of members) assert.equal(await grantedQos(m, '$share/cluster/work/#', 1), 1)
    const pub = await connect(nodes[0].mqttUrl)
    await checkOncePerGroup(pub, 'work/item', got, 300)
    await endAll(...members, pub)
  })

  it('prefer_local keeps messages on the publishing node when it has a member; local_only drops them when it has none', async () => {
    for (const n of nodes) await n.admin(['set', 'shared_subscription_policy=prefer_local'])
    const local = await connect(nodes[0].mqttUrl)
    const remote = await connect(nodes[1].mqttUrl)
    const gotLocal = collect(local)
    const gotRemote = collect(remote)
    await local.subscribeAsync('$share/pl/pl/t', { qos: 1 })
    await remote.subscribeAsync('$share/pl/pl/t', { qos: 1 })
    const pub = await connect(nodes[0].mqttUrl)
    for (let i = 0; i < 20; i++) await pub.publishAsync('pl/t', String(i), { qos: 1 })
    await waitFor(() => gotLocal.length === 20, 5000, 'local deliveries')
    // node 2 has no member: with local_only its publishes reach no one in the group
    await nodes[2].admin(['set', 'shared_subscription_policy=local_only'])
    const pub2 = await connect(nodes[2].mqttUrl)
    await pub2.publishAsync('pl/t', 'dropped', { qos: 1 })
    await nodes[2].admin(['set', 'shared_subscription_policy=prefer_local'])
    await pub2.publishAsync('pl/t', 'delivered', { qos: 1 })
    await waitFor(() => [...gotLocal, ...gotRemote].some(m => m.payload === 'delivered'), 5000, 'the prefer_local delivery')
    assert.equal([...gotLocal, ...gotRemote].filter(m => m.payload === 'dropped').length, 0)
    assert.equal(gotRemote.filter(m => Number.isInteger(Number(m.payload))).length, 0)
    await endAll(local, remote, pub, pub2)
  })
})
