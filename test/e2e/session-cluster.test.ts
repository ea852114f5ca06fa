import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, endAll } from './helpers/mqtt.js'
import { RawClient } from './helpers/raw.js'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'

type Row = Record<string, string | number | boolean | null>

/** `session show ... --format=json` rows; fails the test on a non-zero exit. */
async function sessions (node: TestNode, args: string[]): Promise<Row[]> {
  const r = await node.admin(['session', 'show', ...args, '--format=json'])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { type: string, table: Row[] }).table
}

async function clusterOf (a: TestNode, b: TestNode): Promise<void> {
  await waitFor(async () => {
    const r = await a.admin(['cluster', 'show', '--format=json'])
    const table = JSON.parse(r.stdout).table as Array<{ Node: string, Running: boolean }>
    return table.length === 2 && table.every(m => m.Running)
  }, 10000, `${b.nodename} to join ${a.nodename}`)
}

describe('session show after a restart', () => {
  it('lists the offline persistent sessions kept in the durable store', async () => {
    let node = await startNode({ conf: OPEN_ACCESS })
    try {
      const sleeper = await connect(node.mqttUrl, { clientId: 'sleeps-through', clean: false })
      await sleeper.subscribeAsync('night/#', { qos: 1 })
      await sleeper.endAsync()
      const pub = await connect(node.mqttUrl)
      await pub.publishAsync('night/1', 'zzz', { qos: 1 })
      await pub.endAsync()
      assert.equal(await node.stop(), 0)
      node = await restartNode(node)
      assert.deepEqual(await sessions(node, ['--client_id', '--is_online', '--offline_messages', '--topic']), [
        { client_id: 'sleeps-through', is_online: false, offline_messages: 1, topic: 'night/#' }
      ])
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})

describe('session show of queues and of several sessions of one client id', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'max_inflight_messages = 2', 'allow_multiple_sessions = on'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('waiting_acks counts the inflight window, online_messages what waits behind it', async () => {
    const slow = await RawClient.open(node.mqttPort, 'slow')
    await slow.next('connack')
    slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'slow/#', qos: 1 }] })
    await slow.next('suback')
    const pub = await connect(node.mqttUrl)
    for (let i = 0; i < 5; i++) await pub.publishAsync('slow/t', String(i), { qos: 1 })
    await slow.waitCount('publish', 2)
    let last: Row[] = []
    await waitFor(async () => {
      last = await sessions(node, ['--client_id=slow', '--waiting_acks', '--online_messages', '--queue_size', '--offline_messages'])
      return last.length === 1 && last[0].online_messages === 3
    }, 5000, 'three messages waiting behind the window')
    assert.deepEqual(last, [{ offline_messages: 0, online_messages: 3, queue_size: 3, waiting_acks: 2 }])
    slow.socket.destroy()
    await pub.endAsync()
  })

  it('with allow_multiple_sessions: one row per connection, num_sessions, and disconnect closes them all', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'twin' })
    const second = await connect(node.mqttUrl, { clientId: 'twin' })
    const closed = [false, false]
    first.on('close', () => { closed[0] = true })
    second.on('close', () => { closed[1] = true })
    assert.deepEqual(await sessions(node, ['--client_id=twin', '--client_id', '--num_sessions', '--is_online']), [
      { client_id: 'twin', is_online: true, num_sessions: 2 },
      { client_id: 'twin', is_online: true, num_sessions: 2 }
    ])
    const r = await node.admin(['session', 'disconnect', 'client-id=twin'])
    assert.equal(r.code, 0, r.stderr)
    await waitFor(() => closed[0] && closed[1], 5000, 'both connections to be closed')
    await endAll(first, second)
  })
})

describe('session commands across a two-node cluster', () => {
  let a: TestNode
  let b: TestNode
  before(async () => {
    a = await startNode({ conf: OPEN_ACCESS })
    b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] })
    await clusterOf(a, b)
  })
  after(async () => {
    await a.stop()
    await b.stop()
    a.cleanup()
    b.cleanup()
  })

  it('session show on node A lists the online and offline sessions of node B', async () => {
    const online = await connect(b.mqttUrl, { clientId: 'on-b', username: 'bea' })
    const parked = await connect(b.mqttUrl, { clientId: 'parked-b', clean: false })
    await parked.subscribeAsync('park/#', { qos: 1 })
    await parked.endAsync()
    const local = await connect(a.mqttUrl, { clientId: 'on-a' })
    try {
      assert.deepEqual(await sessions(a, ['--client_id', '--is_online', '--node', '--user']), [
        { client_id: 'on-a', is_online: true, node: a.nodename, user: null },
        { client_id: 'on-b', is_online: true, node: b.nodename, user: 'bea' },
        { client_id: 'parked-b', is_online: false, node: b.nodename, user: null }
      ])
      assert.deepEqual(await sessions(a, [`--node=${b.nodename}`, '--client_id']), [{ client_id: 'on-b' }, { client_id: 'parked-b' }])
    } finally {
      await endAll(online, local)
    }
  })

  it('session disconnect on node A disconnects a client of node B; --cleanup removes an offline session there', async () => {
    const remote = await connect(b.mqttUrl, { clientId: 'far' })
    let closed = false
    remote.on('close', () => { closed = true })
    const r = await a.admin(['session', 'disconnect', 'client-id=far'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'Done\n')
    await waitFor(() => closed, 5000, 'the client on node B to be disconnected')
    remote.end(true)

    const cleanup = await a.admin(['session', 'disconnect', 'client-id=parked-b', '--cleanup'])
    assert.equal(cleanup.code, 0, cleanup.stderr)
    assert.deepEqual(await sessions(a, ['--client_id=parked-b']), [])
    const unknown = await a.admin(['session', 'disconnect', 'client-id=parked-b'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /No session found for client-id "parked-b"/)
  })

  it('with node B down, session show on A warns on stderr and exits 0 with what it has', async () => {
    const local = await connect(a.mqttUrl, { clientId: 'still-here' })
    await b.kill()
    await waitFor(async () => {
      const r = await a.admin(['cluster', 'show', '--format=json'])
      return (JSON.parse(r.stdout).table as Array<{ Running: boolean }>).some(m => !m.Running)
    }, 10000, 'node B to be seen down')
    const r = await a.admin(['session', 'show', '--client_id', '--format=json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).table, [{ client_id: 'still-here' }])
    assert.match(r.stderr, new RegExp(`^Warning: node ${b.nodename} is not running \\(.*\\): its sessions are not listed\\n$`))
    await local.endAsync()
  })
})
