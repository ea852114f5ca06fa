// Limits a client runs into: payload size, topic depth, subscriptions per
// client, the CONNECT timeout; and upgrade_outgoing_qos (set at runtime).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect } from 'node:net'
import type { IPublishPacket, ISubackPacket } from 'mqtt-packet'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { rawConnect, rawSubscriber } from './helpers/queue.js'

describe('limits (max_message_size = 1KB, topic_max_depth = 3, max_subscriptions_per_client = 2, mqtt_connect_timeout = 500)', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'max_message_size = 1KB', 'topic_max_depth = 3', 'max_subscriptions_per_client = 2', 'mqtt_connect_timeout = 500'] })
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('closes the connection of a client publishing more than max_message_size; others are not affected; settable at runtime', async () => {
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('size/t', { qos: 1 })
    const big = await connect(node.mqttUrl)
    const closed = new Promise<void>(resolve => big.once('close', () => resolve()))
    await big.publishAsync('size/t', Buffer.alloc(1024, 'a'), { qos: 1 })
    big.publish('size/t', Buffer.alloc(1025, 'b'), { qos: 1 })
    await closed
    const other = await connect(node.mqttUrl)
    await other.publishAsync('size/t', 'after', { qos: 1 })
    await waitFor(() => got.length === 2, 5000, 'the accepted messages')
    assert.deepEqual(got.map(m => m.payload.length), [1024, 5])
    assert.equal(sub.connected, true)

    const set = await node.admin(['set', 'message_size_limit=100'])
    assert.equal(set.code, 0, set.stderr)
    const small = await connect(node.mqttUrl)
    const smallClosed = new Promise<void>(resolve => small.once('close', () => resolve()))
    small.publish('size/t', Buffer.alloc(200, 'c'), { qos: 0 })
    await smallClosed
    await endAll(sub, big, other, small)
  })

  it('disconnects a client that publishes or subscribes to a topic deeper than topic_max_depth', async () => {
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('d1/d2/d3', { qos: 0 })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('d1/d2/d3', 'three levels')
    await waitFor(() => got.length === 1, 5000, 'the three-level message')
    const closed = new Promise<void>(resolve => pub.once('close', () => resolve()))
    pub.publish('d1/d2/d3/d4', 'four levels')
    await closed
    const deep = await connect(node.mqttUrl)
    const deepClosed = new Promise<void>(resolve => deep.once('close', () => resolve()))
    deep.subscribe('a/b/c/#')
    await deepClosed
    await endAll(sub, pub, deep)
  })

  it('refuses filters beyond max_subscriptions_per_client (0x80); replacing a filter is allowed', async () => {
    const { raw } = await rawConnect(node, 'subs-limit')
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 's/1', qos: 0 }, { topic: 's/2', qos: 0 }, { topic: 's/3', qos: 0 }] })
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [0, 0, 0x80])
    raw.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 's/1', qos: 1 }] })
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [1])
    raw.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['s/2'] })
    await raw.next('unsuback')
    raw.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 's/3', qos: 0 }] })
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [0])
    raw.close()
  })

  it('closes a connection that sends no CONNECT within mqtt_connect_timeout', async () => {
    const socket = netConnect(node.mqttPort, '127.0.0.1')
    const opened = Date.now()
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    await new Promise<void>(resolve => socket.once('close', () => resolve()))
    const elapsed = Date.now() - opened
    assert.ok(elapsed >= 450 && elapsed < 4000, `closed after ${elapsed} ms`)
  })

  it('with upgrade_outgoing_qos = on delivers at the subscription QoS, live and retained', async () => {
    const set = await node.admin(['set', 'upgrade_outgoing_qos=on'])
    assert.equal(set.code, 0, set.stderr)
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('up/retained', 'kept at 0', { qos: 0, retain: true })
    const raw = await rawSubscriber(node, 'upgraded', 'up/#', 2)
    await pub.publishAsync('up/zero', 'sent at 0', { qos: 0 })
    await pub.publishAsync('up/one', 'sent at 1', { qos: 1 })
    const got = await raw.waitCount('publish', 3) as IPublishPacket[]
    // (the retained message is read from the store and may come after the live ones)
    assert.deepEqual(got.map(p => [p.payload.toString(), p.qos]).sort(), [['kept at 0', 2], ['sent at 0', 2], ['sent at 1', 2]])
    raw.close()
    await endAll(pub)
    await node.admin(['set', 'upgrade_outgoing_qos=off'])
  })
})
