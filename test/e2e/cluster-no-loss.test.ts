// No acknowledged message is lost across nodes when a node is killed (kill -9)
// and restarted: a QoS 1 publisher on A, a persistent QoS 1 subscriber on B.
import { after, describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'

const TOPIC = 'noloss/stream'
const PUBLISH_EVERY_MS = 5
/** publishes acknowledged after the killed node is back, before the stream ends */
const AFTER_RESTART = 300
const MAX_MESSAGES = 4000

/** An MQTT.js client that reconnects by itself (the helpers' connect gives up at the first error). */
async function reconnecting (node: TestNode, opts: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(node.mqttUrl, { reconnectPeriod: 50, connectTimeout: 5000, ...opts })
  client.on('error', () => {})
  await waitFor(() => client.connected, 10_000, `${String(opts.clientId)} connected`)
  return client
}

/** A numbered QoS 1 stream; `acked` holds the numbers whose PUBACK arrived. */
class Stream {
  readonly acked = new Set<number>()
  sent = 0
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly client: MqttClient) {}

  start (): void {
    this.timer = setInterval(() => {
      if (this.sent >= MAX_MESSAGES) return
      const n = ++this.sent
      this.client.publish(TOPIC, String(n), { qos: 1 }, err => { if (err === undefined || err === null) this.acked.add(n) })
    }, PUBLISH_EVERY_MS)
  }

  stop (): void { clearInterval(this.timer) }
}

/** The messages the subscriber got, by number (duplicates counted). */
function received (client: MqttClient): Map<number, number> {
  const seen = new Map<number, number>()
  client.on('message', (_topic, payload) => {
    const n = Number(payload.toString())
    seen.set(n, (seen.get(n) ?? 0) + 1)
  })
  return seen
}

async function cluster (nodes: TestNode[]): Promise<[TestNode, TestNode]> {
  const a = await startNode({ conf: OPEN_ACCESS })
  nodes.push(a)
  const b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] })
  nodes.push(b)
  await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10_000)
  await waitMembers(b, { [a.nodename]: true, [b.nodename]: true }, 10_000)
  return [a, b]
}

async function persistentSubscriber (node: TestNode, clientId: string): Promise<{ client: MqttClient, seen: Map<number, number> }> {
  const client = await reconnecting(node, { clientId, clean: false })
  const seen = received(client)
  await client.subscribeAsync(TOPIC, { qos: 1 })
  return { client, seen }
}

/** Waits (bounded) until every acknowledged message arrived; returns the lost and the duplicated ones. */
async function settle (stream: Stream, seen: Map<number, number>): Promise<{ lost: number[], duplicates: number }> {
  const missing = (): number[] => [...stream.acked].filter(n => !seen.has(n))
  await waitFor(() => missing().length === 0, 20_000, 'every acknowledged message at the subscriber').catch(() => {})
  let duplicates = 0
  for (const count of seen.values()) duplicates += count - 1
  return { lost: missing(), duplicates }
}

/** A 2-node cluster, a persistent subscriber on B and a QoS 1 stream from A, 200 messages acknowledged. */
async function streaming (nodes: TestNode[], clients: MqttClient[], name: string): Promise<{ a: TestNode, b: TestNode, sub: { client: MqttClient, seen: Map<number, number> }, pub: MqttClient, stream: Stream }> {
  const [a, b] = await cluster(nodes)
  const sub = await persistentSubscriber(b, `noloss-sub-${name}`)
  clients.push(sub.client)
  const pub = await reconnecting(a, { clientId: `noloss-pub-${name}` })
  clients.push(pub)
  const stream = new Stream(pub)
  stream.start()
  await waitFor(() => stream.acked.size >= 200, 10_000, '200 acknowledged before the kill')
  return { a, b, sub, pub, stream }
}

/** AFTER_RESTART more publishes acknowledged, then the stream stops and every acknowledged one must arrive. */
async function assertNothingLost (t: TestContext, stream: Stream, seen: Map<number, number>): Promise<void> {
  const ackedBefore = stream.acked.size
  await waitFor(() => stream.acked.size >= ackedBefore + AFTER_RESTART, 15_000, 'publishes acknowledged after the restart')
  stream.stop()
  const { lost, duplicates } = await settle(stream, seen)
  t.diagnostic(`${stream.acked.size} acknowledged of ${stream.sent} sent, ${duplicates} duplicates`)
  assert.deepEqual(lost, [], `${stream.acked.size} acknowledged of ${stream.sent} sent, ${duplicates} duplicates`)
}

describe('no acknowledged message lost across nodes', () => {
  const nodes: TestNode[] = []
  const clients: MqttClient[] = []
  after(async () => {
    for (const c of clients) c.end(true)
    for (const n of nodes) { await n.stop(); n.cleanup() }
  })

  it('kill -9 of the publisher\'s node, restarted: the publisher reconnects at once and nothing it got a PUBACK for is lost', async t => {
    const { a, sub, pub, stream } = await streaming(nodes, clients, 'a')
    await a.kill()
    const restarted = await restartNode(a, { timeoutMs: 20_000 })
    nodes.push(restarted)
    await waitFor(() => pub.connected, 10_000, 'the publisher back on the restarted node')
    await assertNothingLost(t, stream, sub.seen)
  })

  it('kill -9 of the subscriber\'s node, restarted: the subscriber resumes and nothing the publisher got a PUBACK for is lost', async t => {
    const { a, b, sub, stream } = await streaming(nodes, clients, 'b')
    await b.kill()
    const restarted = await restartNode(b, { timeoutMs: 20_000 })
    nodes.push(restarted)
    await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10_000)
    await waitFor(() => sub.client.connected, 10_000, 'the subscriber back on the restarted node')
    await assertNothingLost(t, stream, sub.seen)
  })
})
