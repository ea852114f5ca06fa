import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { collect, connackCode, connect, endAll, grantedQos } from './helpers/mqtt.js'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'
import { RawClient } from './helpers/raw.js'

const OPEN = OPEN_ACCESS

describe('a member that dies', () => {
  it('shows Running false, blocks new connections during the netsplit, and heals after a restart on new ports', async () => {
    const n1 = await startNode({ conf: OPEN })
    const n2 = await startNode({ conf: [...OPEN, `discovery_node = ${n1.adminAddress}`] })
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
    await n2.kill()
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: false }, 5000)
    assert.equal(await connackCode(n1.mqttUrl), 3, 'allow_register_during_netsplit = off')
    const set = await n1.admin(['set', 'allow_register_during_netsplit=on'])
    assert.equal(set.code, 0, set.stderr)
    assert.equal(await connackCode(n1.mqttUrl), 0)
    // same config and data dir, its listeners on port 0 again: it finds its cluster by
    // itself and tells n1 where its cluster listener is now
    const again = await restartNode(n2, { newPorts: true })
    try {
      assert.notEqual(again.adminPort, n2.adminPort)
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
      await waitFor(() => n1.stdout.includes(`cluster member is at a new address member=${n2.nodename} was=${n2.adminAddress} address=${again.adminAddress}`), 5000, 'the new address in n1\'s log')
      // listener show on the restarted node: its cluster listener at the new port, n1 linked to it
      let vmqRows: unknown[] = []
      await waitFor(async () => {
        const shown = await again.admin(['listener', 'show', '--format=json'])
        vmqRows = (JSON.parse(shown.stdout) as { table: Array<{ type: string, port: string, active_conns: number }> }).table
          .filter(r => r.type === 'vmq').map(r => [r.port, r.active_conns])
        return JSON.stringify(vmqRows) === JSON.stringify([[String(again.adminPort), 1]])
      }, 5000, `the vmq row of the restarted node with n1 linked to it (last ${JSON.stringify(vmqRows)})`)
      const sub = await connect(again.mqttUrl)
      const got = collect(sub)
      await sub.subscribeAsync('heal/t', { qos: 1 })
      const pub = await connect(n1.mqttUrl)
      await pub.publishAsync('heal/t', 'healed', { qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'routing after the restart')
      await endAll(sub, pub)
    } finally {
      await again.stop()
      await n1.stop()
      n1.cleanup()
    }
  })
})

describe('netsplit rules and leaving', () => {
  it('during a netsplit: publish, subscribe and unsubscribe follow their allow_*_during_netsplit flags; cluster leave removes the dead member', async () => {
    const n1 = await startNode({ conf: [...OPEN, 'allow_register_during_netsplit = on'] })
    const n2 = await startNode({ conf: [...OPEN, `discovery_node = ${n1.adminAddress}`] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      const sub = await connect(n1.mqttUrl)
      const got = collect(sub)
      await sub.subscribeAsync('split/t', { qos: 1 })
      const pub = await connect(n1.mqttUrl)
      const willing = await connect(n1.mqttUrl, { clientId: 'willing', will: { topic: 'split/t', payload: Buffer.from('will'), qos: 1, retain: false } })
      const leaving = await RawClient.open(n1.mqttPort, 'leaving')
      await leaving.next('connack')
      leaving.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'split/t', qos: 0 }] })
      await leaving.next('suback')
      await n2.kill()
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: false })
      // publish: QoS 1 not acknowledged and not delivered; subscribe: refused
      let acked = false
      pub.publish('split/t', 'during', { qos: 1 }, () => { acked = true })
      assert.equal(await grantedQos(sub, 'split/other', 1), 128)
      // a will is a PUBLISH too: not published
      willing.stream.destroy()
      await waitFor(() => n1.stdout.includes('will not published: a cluster member is unreachable and allow_publish_during_netsplit is off client=willing topic=split/t'), 5000, 'the will refused in n1\'s log')
      // unsubscribe: no UNSUBACK (the PINGRESP answers a later packet), the subscription stays
      leaving.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['split/t'] })
      leaving.send({ cmd: 'pingreq' })
      await leaving.next('pingresp')
      assert.deepEqual(leaving.received('unsuback'), [])
      assert.ok(n1.stdout.includes("can't unsubscribe: a cluster member is unreachable and allow_unsubscribe_during_netsplit is off (no UNSUBACK; the client sends it again) client=leaving"), n1.stdout)
      await n1.admin(['set', 'allow_publish_during_netsplit=on', 'allow_subscribe_during_netsplit=on'])
      await pub.publishAsync('split/t', 'allowed', { qos: 1 })
      await waitFor(() => got.some(m => m.payload === 'allowed'), 5000, 'the allowed publish')
      assert.equal(((await leaving.next('publish')) as { payload: Buffer }).payload.toString(), 'allowed')
      const allowed = await n1.admin(['set', 'allow_unsubscribe_during_netsplit=on'])
      assert.equal(allowed.code, 0, allowed.stderr)
      leaving.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['split/t'] })
      assert.equal(((await leaving.next('unsuback')) as { messageId: number }).messageId, 3)
      leaving.close()
      assert.equal(got.some(m => m.payload === 'during'), false)
      assert.equal(got.some(m => m.payload === 'will'), false)
      willing.end(true)
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

describe('cluster join from the command line', () => {
  it('joins a running node to another one and prints Done; cluster show agrees on both', async () => {
    const n1 = await startNode({ conf: OPEN })
    const n2 = await startNode({ conf: OPEN })
    try {
      const r = await n2.admin(['cluster', 'join', `discovery-node=${n1.nodename.split('@')[0]}@127.0.0.1:${n1.adminPort}`])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout.trim(), 'Done')
      const both = { [n1.nodename]: true, [n2.nodename]: true }
      await waitMembers(n1, both)
      await waitMembers(n2, both)
      const again = await n2.admin(['cluster', 'join', `discovery-node=${n1.adminAddress}`])
      assert.deepEqual([again.code, again.stdout, again.stderr], [1, '', `non_empty_node: this node is already a member of a cluster with ${n1.nodename}; run cluster leave first\n`])
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
      assert.deepEqual([unreachable.code, unreachable.stdout, unreachable.stderr], [2, '', `RPC to '${node.adminAddress}' failed: not_reachable: no node answers at 127.0.0.1:1\n`])
      const leave = await node.admin(['cluster', 'leave'])
      assert.equal(leave.code, 1)
      assert.equal(leave.stderr.trim(), 'You have to provide a node')
      const unknown = await node.admin(['cluster', 'leave', 'node=ghost@127.0.0.1'])
      assert.deepEqual([unknown.code, unknown.stdout, unknown.stderr], [2, '', `RPC to '${node.adminAddress}' failed: ghost@127.0.0.1 is not a member of this cluster\n`])
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
