import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { waitMembers } from './helpers/cluster.js'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { scrape } from './helpers/prom.js'
import type { MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'

/** Client ids no $SYS topic or payload may carry. */
const SECRET = 'zq7-hidden'
const INTERVAL = 400
/** the metrics each $SYS message sent to the watcher adds one to */
const PER_SYS_MESSAGE = ['mqtt_publish_sent', 'queue_message_in', 'queue_message_out', 'router_matches_local']

/** The ticks seen so far: runs of messages, each starting at `$SYS/<node>/socket/open` (the first metric). */
function ticks (received: Received[], node: string): Received[][] {
  const out: Received[][] = []
  for (const r of received) {
    if (r.topic === `$SYS/${node}/socket/open`) out.push([])
    out.at(-1)?.push(r)
  }
  return out
}

describe('$SYS tree', () => {
  let node: TestNode
  let httpPort: number
  let watcher: MqttClient
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0', `systree_interval = ${INTERVAL}`] })
    httpPort = node.port('http.default')
    watcher = await connect(node.mqttUrl, { clientId: 'sys-watch' })
    await watcher.subscribeAsync('$SYS/#')
  })
  after(async () => {
    await endAll(watcher)
    await node.stop()
    node.cleanup()
  })

  it('publishes one topic per metric every systree_interval with the values of /metrics, and never a client id', async () => {
    const got = collect(watcher)
    // clients connecting, subscribing, unsubscribing, leaving: aedes announces each under $SYS/<its id>/
    const a = await connect(node.mqttUrl, { clientId: `${SECRET}-a`, protocolVersion: 4 })
    await a.subscribeAsync('priv/#', { qos: 1 })
    await a.unsubscribeAsync('priv/#')
    const b = await connect(node.mqttUrl, { clientId: `${SECRET}-b`, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 300 } })
    await b.subscribeAsync('priv/b', { qos: 1 })
    await endAll(b)
    const c = await connect(node.mqttUrl, { clientId: `${SECRET}-c`, protocolVersion: 5 })
    await a.publishAsync('priv/b', 'for b', { qos: 1 })
    const seenBefore = ticks(got, node.nodename).length
    // two whole ticks after the last activity
    await waitFor(() => ticks(got, node.nodename).length >= seenBefore + 3, 10 * INTERVAL + 10000, 'three more $SYS ticks')

    const leaks = got.filter(r => r.topic.includes(SECRET) || r.payload.includes(SECRET) || r.payload.includes('sys-watch'))
    assert.deepEqual(leaks, [])
    assert.ok(got.every(r => r.topic.startsWith(`$SYS/${node.nodename}/`) && r.qos === 0 && !r.retain), JSON.stringify(got.slice(0, 5)))
    const topics = new Set(ticks(got, node.nodename)[seenBefore + 1].map(r => r.topic))
    for (const t of ['socket/open', 'socket/close', 'mqtt/publish/received', 'mqtt/publish/sent', 'mqtt/connack/sent', 'queue/message/drop',
      'retain/messages', 'router/subscriptions', 'active/mqtt/connections', 'sessions/online', 'sessions/offline']) {
      assert.ok(topics.has(`$SYS/${node.nodename}/${t}`), `${t} in ${[...topics].join(' ')}`)
    }
    assert.ok(![...topics].some(t => t.includes('/nodejs/') || t.includes('/process/')), 'no Node.js process metrics')

    // stop the ticks live, then compare the last one with /metrics: nothing moves while nobody publishes,
    // except what the $SYS messages of that tick (sent after its snapshot) count: each a message
    // published on the node, into and out of the watcher's queue, and its PUBLISH's bytes
    const off = await node.admin(['set', 'systree_interval=0'])
    assert.equal(off.code, 0, off.stderr)
    let count = -1
    await waitFor(async () => {
      const before = got.length
      await new Promise(resolve => setTimeout(resolve, 3 * INTERVAL))
      const quiet = got.length === before
      count = got.length
      return quiet
    }, 20 * INTERVAL, 'no more $SYS messages after systree_interval=0')
    const all = ticks(got, node.nodename)
    const last = all[all.length - 1]
    assert.equal(last.length, topics.size, 'the last tick is whole')
    const metrics = await scrape(httpPort)
    const lastBytes = last.reduce((n, r) => n + mqttPacket.generate({ cmd: 'publish', topic: r.topic, payload: r.payload, qos: 0, retain: false, dup: false }).length, 0)
    for (const r of last) {
      const name = r.topic.slice(`$SYS/${node.nodename}/`.length).split('/').join('_')
      const grown = PER_SYS_MESSAGE.includes(name) ? last.length : name === 'bytes_sent' ? lastBytes : 0
      const expected = Number(r.payload) + grown
      const summed = metrics.sum(`vernemq_${name}`)
      assert.equal(summed, expected, `${name}: $SYS ${r.payload}, /metrics ${summed}`)
    }
    assert.equal(metrics.sum('vernemq_sessions_offline'), 1)
    assert.equal(metrics.sum('vernemq_sessions_online'), 3)

    // back on, live
    const on = await node.admin(['set', `systree_interval=${INTERVAL}`])
    assert.equal(on.code, 0, on.stderr)
    await waitFor(() => got.length > count, 10 * INTERVAL + 5000, '$SYS messages again after systree_interval is set back')
    const disabled = await node.admin(['set', 'systree_enabled=off'])
    assert.equal(disabled.code, 0, disabled.stderr)
    await waitFor(async () => {
      const before = got.length
      await new Promise(resolve => setTimeout(resolve, 3 * INTERVAL))
      return got.length === before
    }, 20 * INTERVAL, 'no more $SYS messages after systree_enabled=off')
    const shown = await node.admin(['show', 'systree_enabled', 'systree_interval'])
    assert.equal(shown.code, 0, shown.stderr)
    assert.doesNotMatch(node.stdout, /systree_\w+ .*no effect/)
    await endAll(a, c)
  })
})

describe('$SYS tree in a cluster', () => {
  it('a $SYS/# subscriber on one member gets every member\'s metrics and no client id of either', async () => {
    const conf = [...OPEN_ACCESS, 'systree_interval = 300']
    const n1 = await startNode({ conf })
    const n2 = await startNode({ conf: [...conf, `discovery_node = ${n1.adminAddress}`] })
    const clients: MqttClient[] = []
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
      const watcher = await connect(n1.mqttUrl, { clientId: 'sys-watch-1' })
      clients.push(watcher)
      await watcher.subscribeAsync('$SYS/#')
      const got = collect(watcher)
      for (const [i, node] of [n1, n2].entries()) {
        const c = await connect(node.mqttUrl, { clientId: `${SECRET}-${i}`, protocolVersion: 5 })
        clients.push(c)
        await c.subscribeAsync(`priv/${i}`)
      }
      await waitFor(() => ticks(got, n2.nodename).length >= 3 && ticks(got, n1.nodename).length >= 3, 20000, 'three ticks of each member')
      assert.deepEqual(got.filter(r => r.topic.includes(SECRET) || r.payload.includes(SECRET)), [])
      const names = new Set(got.map(r => r.topic.split('/')[1]))
      assert.deepEqual([...names].sort(), [n1.nodename, n2.nodename].sort())
    } finally {
      await endAll(...clients)
      await n2.stop()
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})
