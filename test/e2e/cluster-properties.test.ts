// MQTT 5 PUBLISH properties and the retain flag on every path a message takes
// between nodes: routing, retained replication, session takeover, cluster
// leave -k, and a restart of the durable store.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt'
import type { IPublishPacket } from 'mqtt-packet'
import { connect, endAll, publishPackets } from './helpers/mqtt.js'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'

const EXPIRY = 300
const PROPERTIES = {
  userProperties: { a: '1' },
  contentType: 'text/plain',
  responseTopic: 'reply/here',
  correlationData: Buffer.from('corr-1'),
  payloadFormatIndicator: true,
  messageExpiryInterval: EXPIRY
}
const V5: IClientOptions = { protocolVersion: 5 }
/** a v5 session that outlives its connection */
const PERSISTENT: IClientOptions = { ...V5, clean: false, properties: { sessionExpiryInterval: 3600 } }

async function publishWithProperties (client: MqttClient, topic: string, payload: string, opts: IClientPublishOptions = {}): Promise<void> {
  await client.publishAsync(topic, payload, { qos: 1, ...opts, properties: { ...PROPERTIES, ...opts.properties } })
}

/** The PUBLISH packets that arrived at a client. */
/** Messages collected from the connect on (a resumed session's queue can come with the CONNACK). */
function packets (client: MqttClient): IPublishPacket[] {
  return publishPackets(client)
}

/** Asserts the properties a subscriber sees are the ones sent, the expiry counted down from the sent one. */
function assertProperties (packet: IPublishPacket): void {
  const p = packet.properties ?? {}
  assert.deepEqual({
    userProperties: { ...p.userProperties },
    contentType: p.contentType,
    responseTopic: p.responseTopic,
    correlationData: p.correlationData?.toString(),
    payloadFormatIndicator: p.payloadFormatIndicator
  }, {
    userProperties: { a: '1' },
    contentType: 'text/plain',
    responseTopic: 'reply/here',
    correlationData: 'corr-1',
    payloadFormatIndicator: true
  })
  const expiry = p.messageExpiryInterval ?? 0
  assert.ok(expiry > 0 && expiry <= EXPIRY, `message expiry interval ${expiry} in (0, ${EXPIRY}]`)
}

describe('MQTT 5 properties across a two-node cluster', () => {
  let a: TestNode
  let b: TestNode
  before(async () => {
    a = await startNode({ conf: OPEN_ACCESS })
    b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] })
    const both = { [a.nodename]: true, [b.nodename]: true }
    await waitMembers(a, both, 10000)
    await waitMembers(b, both, 10000)
  })
  after(async () => {
    await a.stop()
    await b.stop()
    a.cleanup()
    b.cleanup()
  })

  it('a message routed to another node keeps its properties', async () => {
    const sub = await connect(b.mqttUrl, V5)
    const got = packets(sub)
    await sub.subscribeAsync('props/route', { qos: 1 })
    const pub = await connect(a.mqttUrl, V5)
    await publishWithProperties(pub, 'props/route', 'routed')
    await waitFor(() => got.length === 1, 5000, 'the routed message')
    assert.equal(got[0].payload.toString(), 'routed')
    assert.equal(got[0].retain, false)
    assertProperties(got[0])
    await endAll(sub, pub)
  })

  it('a routed retained message keeps its retain flag for Retain As Published only (MQTT-3.3.1-12, -13)', async () => {
    const plain = await connect(b.mqttUrl, V5)
    const asPublished = await connect(b.mqttUrl, V5)
    const [gotPlain, gotAsPublished] = [packets(plain), packets(asPublished)]
    await plain.subscribeAsync('props/rap', { qos: 1 })
    await asPublished.subscribeAsync('props/rap', { qos: 1, rap: true })
    const pub = await connect(a.mqttUrl, V5)
    await publishWithProperties(pub, 'props/rap', 'kept', { retain: true })
    await waitFor(() => gotPlain.length === 1 && gotAsPublished.length === 1, 5000, 'both live copies')
    assert.deepEqual([gotPlain[0].retain, gotAsPublished[0].retain], [false, true])
    assertProperties(gotPlain[0])
    assertProperties(gotAsPublished[0])
    await publishWithProperties(pub, 'props/rap', '', { retain: true })
    await endAll(plain, asPublished, pub)
  })

  it('a retained message replicated to another node keeps its properties', async () => {
    const pub = await connect(a.mqttUrl, V5)
    await publishWithProperties(pub, 'props/retained', 'stored', { retain: true })
    const sub = await connect(b.mqttUrl, V5)
    const got = packets(sub)
    await sub.subscribeAsync('props/retained', { qos: 1 })
    await waitFor(() => got.length === 1, 5000, 'the retained message on node B')
    assert.equal(got[0].payload.toString(), 'stored')
    assert.equal(got[0].retain, true)
    assertProperties(got[0])
    await endAll(pub, sub)
  })

  it('a session taken over by another node keeps its subscription options: Retain As Published, No Local, Subscription Identifier', async () => {
    const first = await connect(a.mqttUrl, { ...PERSISTENT, clientId: 'props-options' })
    await first.subscribeAsync('props/options', { qos: 1, rap: true, nl: true, properties: { subscriptionIdentifier: 5 } })
    await first.endAsync()
    const second = await connect(b.mqttUrl, { ...PERSISTENT, clientId: 'props-options' })
    const got = packets(second)
    // No Local: its own publish does not come back (MQTT-3.8.3-3)
    await second.publishAsync('props/options', 'own', { qos: 1 })
    const pub = await connect(a.mqttUrl, V5)
    await publishWithProperties(pub, 'props/options', 'other', { retain: true })
    await pub.publishAsync('props/options', 'marker', { qos: 1 })
    await waitFor(() => got.some(p => p.payload.toString() === 'marker'), 5000, 'the messages from the other client')
    assert.deepEqual(got.map(p => [p.payload.toString(), p.retain, p.properties?.subscriptionIdentifier]), [['other', true, 5], ['marker', false, 5]])
    await publishWithProperties(pub, 'props/options', '', { retain: true })
    await endAll(pub, second)
  })

  it('a node that joins later gets the retained messages with their properties', async () => {
    const pub = await connect(a.mqttUrl, V5)
    await publishWithProperties(pub, 'props/snapshot', 'copied', { retain: true })
    await pub.endAsync()
    const late = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] })
    try {
      await waitMembers(late, { [a.nodename]: true, [b.nodename]: true, [late.nodename]: true }, 10000)
      const sub = await connect(late.mqttUrl, V5)
      const got = packets(sub)
      await sub.subscribeAsync('props/snapshot', { qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'the retained message on the late node')
      assert.equal(got[0].payload.toString(), 'copied')
      assertProperties(got[0])
      await sub.endAsync(true)
      const r = await late.admin(['cluster', 'leave', `node=${late.nodename}`, '-k'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(await late.waitExit(), 0)
      await waitMembers(a, { [a.nodename]: true, [b.nodename]: true })
    } finally {
      await late.stop()
      late.cleanup()
    }
  })

  it('a session taken over by another node keeps the properties of its queued messages, and expired ones are dropped', async () => {
    const first = await connect(a.mqttUrl, { ...PERSISTENT, clientId: 'props-roamer' })
    await first.subscribeAsync('props/roam', { qos: 1 })
    await first.endAsync()
    const pub = await connect(a.mqttUrl, V5)
    const sentAt = Date.now()
    await publishWithProperties(pub, 'props/roam', 'short-lived', { properties: { messageExpiryInterval: 1 } })
    await publishWithProperties(pub, 'props/roam', 'queued')
    // the first message's lifetime passes while the session waits on node A
    await waitFor(() => Date.now() - sentAt > 1200, 2000, 'the first message to expire')
    const second = await connect(b.mqttUrl, { ...PERSISTENT, clientId: 'props-roamer' })
    const got = packets(second)
    await waitFor(() => got.length >= 1, 5000, 'the queued message on node B')
    const third = await connect(b.mqttUrl, V5)
    await third.publishAsync('props/roam', 'marker', { qos: 1 })
    await waitFor(() => got.some(p => p.payload.toString() === 'marker'), 5000, 'a later message')
    assert.deepEqual(got.map(p => p.payload.toString()), ['queued', 'marker'])
    assertProperties(got[0])
    await endAll(pub, second, third)
  })
})

describe('MQTT 5 properties through cluster leave -k', () => {
  it('the queued messages a leaving node migrates keep their properties', async () => {
    const n1 = await startNode({ conf: OPEN_ACCESS })
    const n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
      const parked = await connect(n2.mqttUrl, { ...PERSISTENT, clientId: 'props-parked' })
      await parked.subscribeAsync('props/park', { qos: 1 })
      await parked.endAsync()
      const pub = await connect(n2.mqttUrl, V5)
      await publishWithProperties(pub, 'props/park', 'migrated')
      await pub.endAsync(true)
      const r = await n1.admin(['cluster', 'leave', `node=${n2.nodename}`, '-k'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /Migrated 1\/1 queues and 1 messages/)
      assert.equal(await n2.waitExit(), 0)
      const back = await connect(n1.mqttUrl, { ...PERSISTENT, clientId: 'props-parked' })
      const got = packets(back)
      await waitFor(() => got.length === 1, 5000, 'the migrated message')
      assert.equal(got[0].payload.toString(), 'migrated')
      assertProperties(got[0])
      await back.endAsync(true)
    } finally {
      await n1.stop()
      await n2.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})

describe('MQTT 5 properties in the durable store', () => {
  it('a queued offline message and a retained message keep their properties across a restart', async () => {
    let node = await startNode({ conf: OPEN_ACCESS })
    try {
      const sleeper = await connect(node.mqttUrl, { ...PERSISTENT, clientId: 'props-sleeper' })
      await sleeper.subscribeAsync('props/night', { qos: 1 })
      await sleeper.endAsync()
      const pub = await connect(node.mqttUrl, V5)
      await publishWithProperties(pub, 'props/night', 'queued')
      await publishWithProperties(pub, 'props/kept', 'retained', { retain: true })
      await pub.endAsync()
      assert.equal(await node.stop(), 0)
      node = await restartNode(node)
      const back = await connect(node.mqttUrl, { ...PERSISTENT, clientId: 'props-sleeper' })
      const queued = packets(back)
      await waitFor(() => queued.length === 1, 5000, 'the queued message after the restart')
      assert.equal(queued[0].payload.toString(), 'queued')
      assertProperties(queued[0])
      const fresh = await connect(node.mqttUrl, V5)
      const retained = packets(fresh)
      await fresh.subscribeAsync('props/kept', { qos: 1 })
      await waitFor(() => retained.length === 1, 5000, 'the retained message after the restart')
      assert.equal(retained[0].retain, true)
      assertProperties(retained[0])
      await endAll(back, fresh)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('a retained message replicated from another node keeps its properties across that node\'s restart', async () => {
    const n1 = await startNode({ conf: OPEN_ACCESS })
    const netsplitAllowed = ['allow_register_during_netsplit = on', 'allow_subscribe_during_netsplit = on']
    let n2 = await startNode({ conf: [...OPEN_ACCESS, ...netsplitAllowed, `discovery_node = ${n1.adminAddress}`] })
    try {
      const both = { [n1.nodename]: true, [n2.nodename]: true }
      await waitMembers(n1, both, 10000)
      const pub = await connect(n1.mqttUrl, V5)
      await publishWithProperties(pub, 'props/replica', 'replicated', { retain: true })
      await pub.endAsync()
      // node 1 is gone when node 2 comes back: node 2 answers from its own store
      assert.equal(await n1.stop(), 0)
      assert.equal(await n2.stop(), 0)
      n2 = await restartNode(n2)
      const sub = await connect(n2.mqttUrl, { ...V5, reconnectPeriod: 0 })
      const got = packets(sub)
      await sub.subscribeAsync('props/replica', { qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'the replicated retained message after the restart')
      assertProperties(got[0])
      await sub.endAsync(true)
    } finally {
      await n1.stop()
      await n2.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})
