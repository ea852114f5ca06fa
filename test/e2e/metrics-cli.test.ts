import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { waitMembers } from './helpers/cluster.js'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, vmq, waitFor, type TestNode } from './helpers/processes.js'
import { freePort } from './helpers/free-port.js'
import { scrape } from './helpers/prom.js'

interface Row { type: string, name: string, node?: string, labels?: string, value: number, description?: string }

/** `metrics show --format=json` rows asked of `node`; fails on a non-zero exit or a warning. */
async function metricRows (node: TestNode, args: string[] = []): Promise<Row[]> {
  const r = await node.admin(['metrics', 'show', ...args, '--format=json'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  return (JSON.parse(r.stdout) as { type: string, table: Row[] }).table
}

/** mqtt_publish_received of each member and summed, as seen from `node`. */
async function published (node: TestNode, members: TestNode[]): Promise<{ perNode: number[], total: number }> {
  const rows = (await metricRows(node, ['--aggregate=false'])).filter(r => r.name === 'mqtt_publish_received')
  const perNode = members.map(m => rows.filter(r => r.node === m.nodename).reduce((n, r) => n + r.value, 0))
  const total = (await metricRows(node)).filter(r => r.name === 'mqtt_publish_received').map(r => r.value)
  assert.equal(total.length, 1)
  return { perNode, total: total[0] }
}

describe('vmq-admin metrics show / metrics reset / node status on a 2-node cluster', () => {
  let a: TestNode
  let b: TestNode
  let httpPort: number
  before(async () => {
    a = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    httpPort = a.port('http.default')
    b = await startNode({ conf: OPEN_ACCESS })
    const join = await b.admin(['cluster', 'join', `discovery-node=${a.adminAddress}`])
    assert.equal(join.code, 0, join.stderr)
    await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10000)
    await waitMembers(b, { [a.nodename]: true, [b.nodename]: true }, 10000)
  })
  after(async () => {
    await Promise.all([a.stop(), b.stop()])
    a.cleanup()
    b.cleanup()
  })

  it('counts 17 publishes on A and 5 (MQTT 5) on B exactly, per node and summed, asked of either node, and as GET /metrics serves them', async () => {
    const before = await published(a, [a, b])
    assert.deepEqual(await published(b, [a, b]), before)
    const beforeV5 = (await metricRows(a, ['--mqtt_version=5'])).find(r => r.name === 'mqtt_publish_received')?.value as number
    const onA = await connect(a.mqttUrl, { protocolVersion: 4 })
    const onB = await connect(b.mqttUrl, { protocolVersion: 5 })
    for (let i = 0; i < 17; i++) await onA.publishAsync('metrics/a', `a${i}`, { qos: 1 })
    for (let i = 0; i < 5; i++) await onB.publishAsync('metrics/b', `b${i}`, { qos: 1 })
    await endAll(onA, onB)
    const expected = { perNode: [before.perNode[0] + 17, before.perNode[1] + 5], total: before.total + 22 }
    assert.deepEqual(await published(a, [a, b]), expected)
    assert.deepEqual(await published(b, [a, b]), expected)
    const v5 = (await metricRows(b, ['--mqtt_version=5'])).find(r => r.name === 'mqtt_publish_received')
    assert.equal(v5?.value, beforeV5 + 5)

    // the human lines, as VerneMQ prints them
    const human = await a.admin(['metrics', 'show'])
    assert.equal(human.code, 0, human.stderr)
    assert.ok(human.stdout.split('\n').includes(`counter.mqtt_publish_received = ${expected.total}`), human.stdout)
    assert.ok(human.stdout.split('\n').includes('gauge.sessions_online = 0'), human.stdout)
    const perNode = await a.admin(['metrics', 'show', '--aggregate=false', '--mqtt_version=4'])
    assert.ok(perNode.stdout.split('\n').includes(`counter.mqtt_publish_received{mqtt_version="4",node="${a.nodename}"} = ${expected.perNode[0]}`), perNode.stdout)
    assert.ok(!perNode.stdout.includes('mqtt_version="5"'), perNode.stdout)
    const described = await a.admin(['metrics', 'show', '-d', '--mqtt_version=4'])
    const lines = described.stdout.split('\n')
    const at = lines.indexOf(`counter.mqtt_publish_received = ${before.total - beforeV5 + 17}`)
    assert.ok(at > 0, described.stdout)
    assert.equal(lines[at - 1], '# PUBLISH packets received from clients.')

    // one source: /metrics on A has the value metrics show gives for A
    const samples = await scrape(httpPort)
    assert.equal(samples.value(`vernemq_mqtt_publish_received{mqtt_version="4",node="${a.nodename}"}`), expected.perNode[0])
  })

  it('metrics reset sets the counters of both members to 0 (also on /metrics) and leaves the gauges', async () => {
    const retainer = await connect(a.mqttUrl)
    await retainer.publishAsync('metrics/retained', 'kept', { qos: 1, retain: true })
    await endAll(retainer)
    const retainedBefore = (await metricRows(a)).find(r => r.name === 'retain_messages')?.value
    assert.equal(retainedBefore, 2) // one copy on each member
    const reset = await b.admin(['metrics', 'reset'])
    assert.deepEqual([reset.code, reset.stdout, reset.stderr], [0, 'Done\n', ''])
    for (const node of [a, b]) assert.deepEqual(await published(node, [a, b]), { perNode: [0, 0], total: 0 })
    const rows = await metricRows(a)
    for (const name of ['socket_open', 'socket_close', 'mqtt_publish_sent', 'mqtt_connack_sent']) assert.equal(rows.find(r => r.name === name)?.value, 0, name)
    assert.equal(rows.find(r => r.name === 'retain_messages')?.value, 2)
    const samples = await scrape(httpPort)
    assert.equal(samples.value(`vernemq_mqtt_publish_received{mqtt_version="4",node="${a.nodename}"}`), 0)
    assert.equal(samples.value(`vernemq_retain_messages{node="${a.nodename}"}`), 1)
    // counting goes on from 0
    const client = await connect(b.mqttUrl)
    for (let i = 0; i < 3; i++) await client.publishAsync('metrics/after', String(i), { qos: 1 })
    await endAll(client)
    assert.deepEqual(await published(a, [a, b]), { perNode: [0, 3], total: 3 })
  })

  it('node status: one Status/Value row each for name, version, uptime, cluster, clients, messages and listeners', async () => {
    const online = await connect(b.mqttUrl, { clientId: 'status-1' })
    try {
      const r = await b.admin(['node', 'status', '--format=json'])
      assert.equal(r.code, 0, r.stderr)
      const rows = (JSON.parse(r.stdout) as { table: Array<{ Status: string, Value: string | number }> }).table
      assert.deepEqual(rows.map(row => row.Status), ['node', 'version', 'uptime', 'cluster_size', 'cluster_running', 'num_online', 'num_offline',
        'msg_in', 'msg_out', 'queue_drop', 'num_subscriptions', 'num_retained', 'active_connections', 'cluster_dropped', 'listeners'])
      const value = Object.fromEntries(rows.map(row => [row.Status, row.Value]))
      assert.equal(value.node, b.nodename)
      assert.equal(value.version, '0.1.0')
      assert.match(String(value.uptime), /^0d 00:\d\d:\d\d$/)
      assert.equal(value.cluster_size, 2)
      assert.equal(value.cluster_running, 2)
      assert.equal(value.num_online, 1)
      assert.equal(value.num_retained, 1)
      assert.equal(value.active_connections, 1)
      assert.equal(value.cluster_dropped, `${a.nodename} 0`)
      assert.equal(value.listeners, `mqtt 127.0.0.1:${b.mqttPort} running\nmqttws 127.0.0.1:${b.wsPort} running`)
      const human = await b.admin(['node', 'status'])
      assert.equal(human.code, 0, human.stderr)
      assert.match(human.stdout, /^\| Status +\| Value +\|$/m)
      assert.match(human.stdout, new RegExp(`^\\| node +\\| ${b.nodename.replace(/[.]/g, '\\.')} +\\|$`, 'm'))
    } finally {
      await endAll(online)
    }
  })

  it('bad flags and values exit 1 with one line; an unreachable node exits 2', async () => {
    const badAggregate = await a.admin(['metrics', 'show', '--aggregate=maybe'])
    assert.deepEqual([badAggregate.code, badAggregate.stdout], [1, ''])
    assert.equal(badAggregate.stderr, 'Expected --aggregate=maybe to be one of: true, false See more help with --help\n')
    const badVersion = await a.admin(['metrics', 'show', '--mqtt_version=6'])
    assert.deepEqual([badVersion.code, badVersion.stderr.split('\n').length], [1, 2])
    assert.match(badVersion.stderr, /^Expected --mqtt_version=6 to be one of: 4, 5/)
    const unknown = await a.admin(['metrics', 'show', '--bogus'])
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'Nonexistent flag: --bogus See more help with --help\n'])
    const port = await freePort()
    for (const args of [['metrics', 'show'], ['metrics', 'reset'], ['node', 'status']]) {
      const r = await vmq([...args, '--node', `127.0.0.1:${port}`])
      assert.deepEqual([r.code, r.stdout, r.stderr], [2, '', `Node '127.0.0.1:${port}' not responding\n`], args.join(' '))
    }
  })

  // last: it kills B
  it('publishes routed to a member that dies before confirming them and is removed: node status and metrics show --aggregate=false name it with the exact count', async () => {
    const sub = await connect(b.mqttUrl, { clientId: 'drop-sub' })
    const pub = await connect(a.mqttUrl, { clientId: 'drop-pub' })
    const remote = `vernemq_router_matches_remote{node="${a.nodename}"}`
    const routed = async (): Promise<number> => (await scrape(httpPort)).value(remote)
    try {
      await sub.subscribeAsync('drop/#', { qos: 1 })
      const got = collect(sub)
      let i = 0
      await waitFor(async () => {
        const probe = `probe${i++}`
        await pub.publishAsync('drop/probe', probe, { qos: 1 })
        await new Promise(resolve => setTimeout(resolve, 50))
        return got.some(m => m.payload === probe)
      }, 10000, "B's subscription known on A")
      // B takes the publishes off the link but cannot confirm them
      const start = await routed()
      assert.equal(b.proc.kill('SIGSTOP'), true)
      for (let n = 0; n < 4; n++) pub.publish('drop/x', `lost${n}`, { qos: 1 })
      await waitFor(async () => await routed() === start + 4, 5000, 'the 4 publishes routed to B')
      await b.kill()
      await waitMembers(a, { [a.nodename]: true, [b.nodename]: false }, 10000)
      const left = await a.admin(['cluster', 'leave', `node=${b.nodename}`])
      assert.deepEqual([left.code, left.stdout, left.stderr], [0, 'Done\n', ''])

      const status = await a.admin(['node', 'status', '--format=json'])
      assert.equal(status.code, 0, status.stderr)
      const rows = (JSON.parse(status.stdout) as { table: Array<{ Status: string, Value: string | number }> }).table
      assert.equal(rows.find(row => row.Status === 'cluster_dropped')?.Value, `${b.nodename} 4`)
      const human = await a.admin(['node', 'status'])
      assert.match(human.stdout, new RegExp(`^\\| cluster_dropped +\\| ${b.nodename.replace(/[.]/g, '\\.')} 4 +\\|$`, 'm'))
      const shown = await a.admin(['metrics', 'show', '--aggregate=false'])
      assert.deepEqual([shown.code, shown.stderr], [0, ''])
      assert.deepEqual(shown.stdout.split('\n').filter(l => l.includes('routed_dropped')), [
        `counter.cluster_routed_dropped{node="${a.nodename}"} = 4`,
        `counter.cluster_peer_routed_dropped{peer="${b.nodename}",node="${a.nodename}"} = 4`
      ])
    } finally {
      await endAll(sub, pub)
    }
  })
})
