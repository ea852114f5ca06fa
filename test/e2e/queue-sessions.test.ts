// Persistent sessions: the offline queue and its limit, resuming with DUP and
// PUBREL, expiration; client id rules, delivered QoS, retained QoS, takeover and
// keepalive.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { IPublishPacket, IConnackPacket } from 'mqtt-packet'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { connectCollecting, consoleLog, pause, publishes, QUIET_MS, rawConnect, rawSubscriber } from './helpers/queue.js'
import { RawClient } from './helpers/raw.js'

describe('persistent sessions (max_offline_messages = 3)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'max_offline_messages = 3', 'log.console.level = debug'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('stores up to max_offline_messages QoS 1/2 messages (never QoS 0) and delivers them in order on reconnect', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'offline1', clean: false })
    await first.subscribeAsync('off/t', { qos: 2 })
    await first.endAsync()
    const pub = await connect(node.mqttUrl)
    // QoS 2 and 0 only: aedes acknowledges a QoS 1 PUBLISH before queueing it, so the
    // publisher's next message may be queued first (QoS 1 storage is covered below)
    const sent: Array<[string, 0 | 1 | 2]> = [['m0', 2], ['m1', 0], ['m2', 2], ['m3', 2], ['m4', 2], ['m5', 2]]
    for (const [payload, qos] of sent) await pub.publishAsync('off/t', payload, { qos })
    const { raw, connack } = await rawConnect(node, 'offline1', { clean: false })
    assert.equal(connack.sessionPresent, true)
    await raw.waitCount('publish', 3)
    await pause(QUIET_MS)
    assert.deepEqual(publishes(raw).map(p => [p.payload.toString(), p.qos]), [['m0', 2], ['m2', 2], ['m3', 2]])
    raw.close()
    await endAll(pub)
  })

  it('queue_type = lifo (set at runtime): a full offline queue drops its oldest message, so the newest 3 are delivered', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'offline-lifo', clean: false })
    await first.subscribeAsync('lifo/t', { qos: 2 })
    await first.endAsync()
    const set = await node.admin(['set', 'queue_type=lifo'])
    assert.equal(set.code, 0, set.stderr)
    const pub = await connect(node.mqttUrl)
    for (const payload of ['m0', 'm1', 'm2', 'm3', 'm4']) await pub.publishAsync('lifo/t', payload, { qos: 2 })
    const { raw, connack } = await rawConnect(node, 'offline-lifo', { clean: false })
    assert.equal(connack.sessionPresent, true)
    await raw.waitCount('publish', 3)
    await pause(QUIET_MS)
    assert.deepEqual(publishes(raw).map(p => p.payload.toString()), ['m2', 'm3', 'm4'])
    raw.close()
    await node.admin(['set', 'queue_type=fifo'])
    await endAll(pub)
  })

  it('resends what was unacknowledged at disconnect with DUP and the same packet id, then the rest', async () => {
    const raw = await rawSubscriber(node, 'resume1', 'resume/t', 1, { clean: false })
    const pub = await connect(node.mqttUrl)
    for (const payload of ['a', 'b']) await pub.publishAsync('resume/t', payload, { qos: 1 })
    const sent = await raw.waitCount('publish', 2) as IPublishPacket[]
    raw.close()
    await pub.publishAsync('resume/t', 'c', { qos: 1 })
    const { raw: again, connack } = await rawConnect(node, 'resume1', { clean: false })
    assert.equal(connack.sessionPresent, true)
    const resent = await again.waitCount('publish', 3) as IPublishPacket[]
    assert.deepEqual(resent.map(p => [p.payload.toString(), p.dup, p.messageId]), [
      ['a', true, sent[0].messageId], ['b', true, sent[1].messageId], ['c', false, resent[2].messageId]
    ])
    for (const p of resent) again.send({ cmd: 'puback', messageId: p.messageId })
    again.close()
    const { raw: third } = await rawConnect(node, 'resume1', { clean: false })
    await pause(QUIET_MS)
    assert.equal(third.received('publish').length, 0, 'acknowledged messages are gone')
    third.close()
    await endAll(pub)
  })

  it('sends a PUBREL again when a session reconnects between PUBREC and PUBCOMP', async () => {
    const raw = await rawSubscriber(node, 'resume2', 'resume2/t', 2, { clean: false })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('resume2/t', 'x', { qos: 2 })
    const [p] = await raw.waitCount('publish', 1) as IPublishPacket[]
    raw.send({ cmd: 'pubrec', messageId: p.messageId })
    await raw.next('pubrel')
    raw.close()
    const { raw: again } = await rawConnect(node, 'resume2', { clean: false })
    const rel = await again.next('pubrel')
    assert.equal(rel.messageId, p.messageId)
    await pause(QUIET_MS)
    assert.equal(again.received('publish').length, 0)
    again.send({ cmd: 'pubcomp', messageId: p.messageId })
    again.close()
    await endAll(pub)
  })

  it('refuses an empty client id without clean session (CONNACK 2) and on MQTT 3.1; assigns one with clean session', async () => {
    // MQTT 3.1.1 CONNECT, clean session 0, keepalive 60, empty client id (mqtt-packet will not encode it)
    const persistent = await RawClient.openWithBytes(node.mqttPort, Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 60, 0, 0]))
    const refused = await persistent.next('connack') as IConnackPacket
    assert.equal(refused.returnCode, 2)
    await persistent.waitClosed()
    // MQTT 3.1 CONNECT ("MQIsdp", level 3), clean session, keepalive 60, empty client id
    const v31 = await RawClient.openWithBytes(node.mqttPort, Buffer.from([0x10, 14, 0, 6, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 3, 2, 0, 60, 0, 0]))
    const refused31 = await v31.next('connack') as IConnackPacket
    assert.equal(refused31.returnCode, 2)
    v31.close()
    const { raw: anonymous, connack: accepted } = await rawConnect(node, '', { clean: true })
    assert.equal(accepted.returnCode, 0)
    anonymous.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'noid/t', qos: 1 }] })
    await anonymous.next('suback')
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('noid/t', 'to an assigned id', { qos: 1 })
    const [got] = await anonymous.waitCount('publish', 1) as IPublishPacket[]
    assert.equal(got.payload.toString(), 'to an assigned id')
    anonymous.close()
    await endAll(pub)
  })

  it('delivers at min(subscription QoS, publish QoS), wildcard filters included; overlapping filters give the highest', async () => {
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('min/one/#', { qos: 1 })
    await sub.subscribeAsync('min/zero/+', { qos: 0 })
    await sub.subscribeAsync('min/both/+', { qos: 0 })
    await sub.subscribeAsync('min/both/#', { qos: 2 })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('min/one/x', 'a', { qos: 2 })
    await pub.publishAsync('min/zero/x', 'b', { qos: 2 })
    await pub.publishAsync('min/one/y', 'c', { qos: 0 })
    await pub.publishAsync('min/both/x', 'd', { qos: 2 })
    await waitFor(() => got.length === 4, 5000, 'four messages')
    await pause(QUIET_MS)
    assert.deepEqual(got.map(m => [m.payload, m.qos]).sort(), [['a', 1], ['b', 0], ['c', 0], ['d', 2]])
    await endAll(sub, pub)
  })

  it('delivers retained messages at min(subscription QoS, stored QoS)', async () => {
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('rq/two', 'stored at 2', { qos: 2, retain: true })
    await pub.publishAsync('rq/zero', 'stored at 0', { qos: 0, retain: true })
    const raw = await rawSubscriber(node, 'retained-qos', 'rq/+', 1)
    const got = await raw.waitCount('publish', 2) as IPublishPacket[]
    assert.deepEqual(got.map(p => [p.payload.toString(), p.qos, p.retain]).sort(), [['stored at 0', 0, true], ['stored at 2', 1, true]])
    raw.close()
    await endAll(pub)
  })

  it('with allow_multiple_sessions = off a second connection with the same client id takes over the first', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'twice' })
    const closed = new Promise<void>(resolve => first.once('close', () => resolve()))
    const second = await connect(node.mqttUrl, { clientId: 'twice' })
    await closed
    assert.equal(second.connected, true)
    await endAll(first, second)
  })

  it('disconnects a client silent for 1.5 x its keepalive, not one that pings', async () => {
    const { raw: silent } = await rawConnect(node, 'silent', { keepalive: 1 })
    const { raw: pinging } = await rawConnect(node, 'pinging', { keepalive: 1 })
    const start = Date.now()
    const pings = setInterval(() => { pinging.send({ cmd: 'pingreq' }) }, 400)
    await silent.waitClosed(5000)
    const elapsed = Date.now() - start
    assert.ok(elapsed >= 1300, `closed after ${elapsed} ms, expected about 1500`)
    await pause(1500)
    clearInterval(pings)
    assert.equal(pinging.closed, false)
    pinging.close()
  })

  it('deletes a persistent session offline for longer than persistent_client_expiration, with its queue', async () => {
    const set = await node.admin(['set', 'persistent_client_expiration=2s'])
    assert.equal(set.code, 0, set.stderr)
    const first = await connect(node.mqttUrl, { clientId: 'expiring', clean: false })
    await first.subscribeAsync('exp/t', { qos: 1 })
    await first.endAsync()
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('exp/t', 'for nobody', { qos: 1 })
    await waitFor(() => /persistent session expired.*client=expiring/.test(consoleLog(node)), 10000, 'the expiration')
    const { client, got, sessionPresent } = await connectCollecting(node.mqttUrl, { clientId: 'expiring', clean: false })
    assert.equal(sessionPresent, false)
    await pub.publishAsync('exp/t', 'not subscribed any more', { qos: 1 })
    await pause(QUIET_MS)
    assert.deepEqual(got, [])
    await endAll(client, pub)
    await node.admin(['set', 'persistent_client_expiration=never'])
  })
})
