// MQTT 5 features seen on the wire by raw v5 clients (test/e2e/helpers/raw5.ts)
// and as MQTT.js reports them: topic aliases towards clients, subscription
// options, request/response, problem information, reason codes, properties
// passed through, retained message expiry, session expiry at DISCONNECT, will
// delay, takeover and keep alive.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, ISubackPacket, Packet } from 'mqtt-packet'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'
import { pause, QUIET_MS } from './helpers/queue.js'
import { RawClient5 } from './helpers/raw5.js'

/** A raw v5 client subscribed with `options` (qos, nl, rap, rh) to one filter; fails unless granted. */
async function subscriber (node: TestNode, clientId: string, topic: string, options: Record<string, unknown> = {}, connect: Record<string, unknown> = {}): Promise<RawClient5> {
  const { raw, connack } = await RawClient5.connect(node.mqttPort, clientId, connect)
  assert.equal(connack.reasonCode, 0)
  const qos = (options.qos ?? 1) as number
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos, ...options }] } as Packet)
  const suback = await raw.next('suback') as ISubackPacket
  assert.deepEqual(suback.granted, [qos], `SUBACK for ${topic}`)
  return raw
}

async function publish (node: TestNode, topic: string, payload: string, opts: { qos?: 0 | 1 | 2, retain?: boolean, properties?: Record<string, unknown> } = {}): Promise<void> {
  const pub = await connect(node.mqttUrl, { protocolVersion: 5 })
  await pub.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false, ...(opts.properties !== undefined ? { properties: opts.properties } : {}) })
  await pub.endAsync() // not forced: a QoS 0 PUBLISH is written before the DISCONNECT
}

/** The PUBLISHes received so far: [topic, alias, payload]. */
function aliasing (raw: RawClient5): Array<[string, number | undefined, string]> {
  return (raw.received('publish') as IPublishPacket[]).map(p => [p.topic, p.properties?.topicAlias, p.payload.toString()])
}

async function waitPublishes (raw: RawClient5, n: number, timeoutMs = 5000): Promise<IPublishPacket[]> {
  await waitFor(() => raw.received('publish').length >= n, timeoutMs, `${n} PUBLISHes (got ${raw.received('publish').length})`)
  return raw.received('publish') as IPublishPacket[]
}

describe('MQTT 5 topic aliases towards clients (topic_alias_max_client = 2, retry_interval = 1)', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'topic_alias_max_client = 2', 'retry_interval = 1'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  for (const qos of [0, 1] as const) {
    it(`QoS ${qos}: the second PUBLISH of a topic has an empty topic and the alias; once both aliases are used, a third topic goes out in full (MQTT 5 §3.3.2.3.4)`, async () => {
      const raw = await subscriber(node, `aliased${qos}`, `al${qos}/#`, { qos }, { properties: { topicAliasMaximum: 10 } })
      for (const [topic, payload] of [['a', '1'], ['a', '2'], ['b', '3'], ['c', '4'], ['b', '5'], ['c', '6']]) {
        await publish(node, `al${qos}/${topic}`, payload, { qos })
      }
      const got = await waitPublishes(raw, 6)
      if (qos === 1) for (const p of got) raw.send({ cmd: 'puback', messageId: p.messageId } as Packet)
      assert.deepEqual(aliasing(raw), [
        [`al${qos}/a`, 1, '1'], ['', 1, '2'], [`al${qos}/b`, 2, '3'], [`al${qos}/c`, undefined, '4'], ['', 2, '5'], [`al${qos}/c`, undefined, '6']
      ])
      raw.close()
    })
  }

  it('a retained message delivered at SUBSCRIBE takes an alias, and the next live one uses it', async () => {
    await publish(node, 'alr/t', 'kept', { retain: true })
    const raw = await subscriber(node, 'aliasedr', 'alr/t', { qos: 1 }, { properties: { topicAliasMaximum: 2 } })
    await waitPublishes(raw, 1)
    await publish(node, 'alr/t', 'live')
    const got = await waitPublishes(raw, 2)
    for (const p of got) raw.send({ cmd: 'puback', messageId: p.messageId } as Packet)
    assert.deepEqual(aliasing(raw), [['alr/t', 1, 'kept'], ['', 1, 'live']])
    assert.equal(got[0].retain, true)
    await publish(node, 'alr/t', '', { retain: true })
    raw.close()
  })

  it('a resend with DUP on the same connection may use the alias; after a reconnect it carries the topic again (MQTT-3.3.2-7)', async () => {
    const session = { clean: false, properties: { topicAliasMaximum: 2, sessionExpiryInterval: 60 } }
    const first = await subscriber(node, 'aliasdup', 'ald/t', { qos: 1 }, session)
    await publish(node, 'ald/t', 'one')
    await publish(node, 'ald/t', 'two')
    // neither is acknowledged: the retry (retry_interval = 1) sends both again with DUP
    await waitPublishes(first, 4, 4000)
    const firstRound = aliasing(first).slice(0, 4)
    assert.deepEqual(firstRound, [['ald/t', 1, 'one'], ['', 1, 'two'], ['', 1, 'one'], ['', 1, 'two']])
    assert.deepEqual((first.received('publish') as IPublishPacket[]).slice(2, 4).map(p => p.dup), [true, true])
    first.close()
    const { raw: second, connack } = await RawClient5.connect(node.mqttPort, 'aliasdup', session)
    assert.equal(connack.sessionPresent, true)
    const again = await waitPublishes(second, 2)
    assert.deepEqual(aliasing(second).slice(0, 2), [['ald/t', 1, 'one'], ['', 1, 'two']])
    assert.deepEqual(again.slice(0, 2).map(p => p.dup), [true, true])
    for (const p of again) second.send({ cmd: 'puback', messageId: p.messageId } as Packet)
    second.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } } as Packet)
    await second.waitClosed()
  })

  it('a client whose CONNECT has no Topic Alias Maximum (0) gets no alias', async () => {
    const raw = await subscriber(node, 'noalias', 'aln/t', { qos: 0 })
    await publish(node, 'aln/t', '1', { qos: 0 })
    await publish(node, 'aln/t', '2', { qos: 0 })
    await waitPublishes(raw, 2)
    assert.deepEqual(aliasing(raw), [['aln/t', undefined, '1'], ['aln/t', undefined, '2']])
    raw.close()
  })

  it('an MQTT.js client with topicAliasMaximum receives every message with its topic', async () => {
    const sub = await connect(node.mqttUrl, { protocolVersion: 5, properties: { topicAliasMaximum: 5 } })
    const got = collect(sub)
    await sub.subscribeAsync('alj/#', { qos: 1 })
    for (const [topic, payload] of [['x', '1'], ['y', '2'], ['x', '3'], ['y', '4'], ['z', '5']]) {
      await publish(node, `alj/${topic}`, payload, { qos: payload === '3' ? 0 : 1 })
    }
    await waitFor(() => got.length === 5, 5000, 'five messages')
    assert.deepEqual(got.map(m => [m.topic, m.payload]), [['alj/x', '1'], ['alj/y', '2'], ['alj/x', '3'], ['alj/y', '4'], ['alj/z', '5']])
    await endAll(sub)
  })

  it('`vmq set topic_alias_max_client` applies to connections made after it', async () => {
    const before = await subscriber(node, 'alsetold', 'als/t', { qos: 0 }, { properties: { topicAliasMaximum: 5 } })
    const set = await node.admin(['set', 'topic_alias_max_client=0'])
    assert.equal(set.code, 0, set.stderr)
    const after = await subscriber(node, 'alsetnew', 'als/t', { qos: 0 }, { properties: { topicAliasMaximum: 5 } })
    await publish(node, 'als/t', '1', { qos: 0 })
    await publish(node, 'als/t', '2', { qos: 0 })
    await waitPublishes(before, 2)
    await waitPublishes(after, 2)
    assert.deepEqual(aliasing(before), [['als/t', 1, '1'], ['', 1, '2']])
    assert.deepEqual(aliasing(after), [['als/t', undefined, '1'], ['als/t', undefined, '2']])
    before.close()
    after.close()
    assert.equal((await node.admin(['set', 'topic_alias_max_client=2'])).code, 0)
  })
})

describe('MQTT 5 subscription options, request/response and properties passed through', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('No Local: a subscriber with No Local gets no copy of its own PUBLISH, others\' it gets; without it, its own too (MQTT-3.8.3-3)', async () => {
    const local = await subscriber(node, 'nl1', 'nl/t', { qos: 0, nl: true })
    const plain = await subscriber(node, 'nl0', 'nl/t', { qos: 0, nl: false })
    local.send({ cmd: 'publish', topic: 'nl/t', payload: Buffer.from('from nl1'), qos: 0, retain: false, dup: false } as Packet)
    plain.send({ cmd: 'publish', topic: 'nl/t', payload: Buffer.from('from nl0'), qos: 0, retain: false, dup: false } as Packet)
    await waitPublishes(plain, 2)
    await waitPublishes(local, 1)
    await pause(QUIET_MS)
    assert.deepEqual((local.received('publish') as IPublishPacket[]).map(p => p.payload.toString()), ['from nl0'])
    assert.deepEqual((plain.received('publish') as IPublishPacket[]).map(p => p.payload.toString()).sort(), ['from nl0', 'from nl1'])
    local.close()
    plain.close()
  })

  it('Retain As Published: a live retained PUBLISH keeps RETAIN 1 only for the subscription with it; a retained message sent at SUBSCRIBE has RETAIN 1 either way (MQTT-3.3.1-12/13, -9)', async () => {
    const kept = await subscriber(node, 'rap1', 'rap/t', { qos: 0, rap: true })
    const cleared = await subscriber(node, 'rap0', 'rap/t', { qos: 0, rap: false })
    await publish(node, 'rap/t', 'r', { qos: 0, retain: true })
    const [k] = await waitPublishes(kept, 1)
    const [c] = await waitPublishes(cleared, 1)
    assert.deepEqual([k.retain, c.retain], [true, false])
    const late = await subscriber(node, 'rap0late', 'rap/t', { qos: 0, rap: false })
    const [l] = await waitPublishes(late, 1)
    assert.equal(l.retain, true)
    await publish(node, 'rap/t', '', { qos: 0, retain: true })
    for (const raw of [kept, cleared, late]) raw.close()
  })

  it('Retain Handling 0 sends retained messages at every SUBSCRIBE, 1 only when the subscription is new, 2 never (MQTT 5 §3.8.3.1)', async () => {
    await publish(node, 'rh/t', 'kept', { qos: 0, retain: true })
    for (const rh of [0, 1, 2]) {
      const raw = await subscriber(node, `rh${rh}`, 'rh/t', { qos: 0, rh })
      raw.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'rh/t', qos: 0, rh }] } as Packet)
      assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [0])
      await pause(QUIET_MS)
      const expected = rh === 0 ? 2 : rh === 1 ? 1 : 0
      assert.equal(raw.received('publish').length, expected, `Retain Handling ${rh}`)
      raw.close()
    }
    await publish(node, 'rh/t', '', { qos: 0, retain: true })
  })

  it('request/response: Response Topic and Correlation Data reach the subscriber unchanged', async () => {
    const raw = await subscriber(node, 'rr', 'rr/req', { qos: 1 })
    await publish(node, 'rr/req', 'q', { properties: { responseTopic: 'rr/reply/1', correlationData: Buffer.from([0, 1, 0xff]) } })
    const [got] = await waitPublishes(raw, 1)
    assert.equal(got.properties?.responseTopic, 'rr/reply/1')
    assert.deepEqual(got.properties?.correlationData, Buffer.from([0, 1, 0xff]))
    raw.close()
  })

  it('Request Response Information: the CONNACK carries no Response Information (the node offers none, like VerneMQ)', async () => {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'rri', { properties: { requestResponseInformation: true } })
    assert.equal(connack.reasonCode, 0)
    assert.equal(connack.properties?.responseInformation, undefined)
    raw.close()
  })

  it('Content Type, Payload Format Indicator and User Properties pass through; a payload marked UTF-8 is not checked (invalid bytes arrive as sent)', async () => {
    const raw = await subscriber(node, 'ct', 'ct/t', { qos: 1 })
    const payload = Buffer.from([0x68, 0xff, 0xfe, 0xc3])
    const pub = await RawClient5.connect(node.mqttPort, 'ctpub')
    pub.raw.send({ cmd: 'publish', topic: 'ct/t', payload, qos: 1, messageId: 1, retain: false, dup: false, properties: { payloadFormatIndicator: true, contentType: 'application/x-test; v=1', userProperties: { a: '1', b: ['2', '3'] } } } as Packet)
    assert.equal(((await pub.raw.next('puback')) as { reasonCode?: number }).reasonCode ?? 0, 0)
    const [got] = await waitPublishes(raw, 1)
    assert.deepEqual(got.payload, payload)
    assert.equal(got.properties?.payloadFormatIndicator, true)
    assert.equal(got.properties?.contentType, 'application/x-test; v=1')
    assert.deepEqual({ ...got.properties?.userProperties }, { a: '1', b: ['2', '3'] })
    pub.raw.close()
    raw.close()
  })

  it('PUBACK to a QoS 1 PUBLISH nobody subscribes to is 0x00 (Success), as VerneMQ sends, not 0x10', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'nosubs')
    raw.send({ cmd: 'publish', topic: 'nobody/here', payload: Buffer.from('x'), qos: 1, messageId: 5, retain: false, dup: false } as Packet)
    const puback = await raw.next('puback') as { messageId: number, reasonCode?: number }
    assert.deepEqual([puback.messageId, puback.reasonCode ?? 0], [5, 0])
    raw.close()
  })

  it('a retained message whose expiry passed is not sent to a new subscriber; one that has not goes out with the interval that remains (MQTT-3.3.2-5/6)', async () => {
    await publish(node, 'rx/short', 'short', { retain: true, properties: { messageExpiryInterval: 1 } })
    await publish(node, 'rx/long', 'long', { retain: true, properties: { messageExpiryInterval: 100 } })
    await pause(2100)
    const raw = await subscriber(node, 'rx', 'rx/+', { qos: 1 })
    const [got] = await waitPublishes(raw, 1)
    await pause(QUIET_MS)
    assert.deepEqual((raw.received('publish') as IPublishPacket[]).map(p => p.payload.toString()), ['long'])
    const left = got.properties?.messageExpiryInterval ?? 0
    assert.ok(left >= 96 && left <= 98, `remaining interval ${left}`)
    await publish(node, 'rx/long', '', { retain: true })
    raw.close()
  })

  it('UNSUBACK: 0x00 for a filter the client held, 0x11 (No subscription existed) for one it did not', async () => {
    const raw = await subscriber(node, 'unsub', 'us/a', { qos: 0 })
    raw.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['us/a', 'us/b'] } as Packet)
    const unsuback = await raw.next('unsuback') as { messageId: number, granted?: number[], reasonCodes?: number[] }
    assert.deepEqual(unsuback.granted ?? unsuback.reasonCodes, [0x00, 0x11])
    raw.close()
  })
})

describe('MQTT 5 reason codes and problem information (ACL on, max_subscriptions_per_client = 2)', () => {
  let node: TestNode
  before(async () => {
    const acl = join(tempDir(), 'vmq.acl')
    writeFileSync(acl, 'topic allowed/#\n')
    node = await startNode({ conf: ['allow_anonymous = on', 'plugins.vmq_passwd = off', `vmq_acl.acl_file = ${acl}`, 'max_subscriptions_per_client = 2'] })
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('SUBACK 0x87 (Not authorized) for a filter the ACL denies', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'denied')
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'secret/t', qos: 1 }] } as Packet)
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [0x87])
    raw.close()
  })

  it('SUBACK 0x97 (Quota exceeded) for a filter beyond max_subscriptions_per_client', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'quota')
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'allowed/1', qos: 0 }, { topic: 'allowed/2', qos: 1 }, { topic: 'allowed/3', qos: 0 }] } as Packet)
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [0, 1, 0x97])
    raw.close()
  })

  it('a malformed topic filter gets DISCONNECT 0x8F (Topic Filter invalid) and the connection is closed, as VerneMQ does', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'badfilter')
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'allowed/#/x', qos: 0 }] } as Packet)
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x8f)
    await raw.waitClosed()
  })

  for (const requested of [true, false]) {
    it(`Request Problem Information ${requested ? '1' : '0'}: a PUBACK 0x87 ${requested ? 'carries' : 'carries no'} Reason String (MQTT-3.1.2-29)`, async () => {
      const { raw } = await RawClient5.connect(node.mqttPort, `rpi${String(requested)}`, { properties: { requestProblemInformation: requested } })
      raw.send({ cmd: 'publish', topic: 'secret/t', payload: Buffer.from('x'), qos: 1, messageId: 9, retain: false, dup: false } as Packet)
      const puback = await raw.next('puback') as { reasonCode: number, properties?: { reasonString?: string, userProperties?: unknown } }
      assert.equal(puback.reasonCode, 0x87)
      if (requested) assert.equal(typeof puback.properties?.reasonString, 'string')
      else assert.equal(puback.properties, undefined)
      raw.close()
    })
  }
})

describe('MQTT 5 session expiry at DISCONNECT, will delay, takeover and keep alive', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  async function present (clientId: string): Promise<boolean> {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, clientId, { clean: false, properties: { sessionExpiryInterval: 60 } })
    raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } } as Packet)
    await raw.waitClosed()
    return connack.sessionPresent
  }

  it('a DISCONNECT may change a Session Expiry Interval > 0 to another value: 120 keeps the session, 0 ends it (MQTT 5 §3.14.2.2.2)', async () => {
    for (const [clientId, atDisconnect, kept] of [['sei120', 120, true], ['sei0', 0, false]] as const) {
      const { raw } = await RawClient5.connect(node.mqttPort, clientId, { clean: false, properties: { sessionExpiryInterval: 60 } })
      raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: atDisconnect } } as Packet)
      await raw.waitClosed()
      await pause(200)
      assert.equal(await present(clientId), kept, `${clientId}: DISCONNECT with ${atDisconnect}`)
    }
  })

  it('a DISCONNECT setting Session Expiry Interval > 0 after a CONNECT with 0 gets DISCONNECT 0x82 and the session still ends (MQTT-3.14.2-2)', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'sei0to30', { clean: false })
    raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 30 } } as Packet)
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x82)
    await raw.waitClosed()
    await pause(200)
    assert.equal(await present('sei0to30'), false)
  })

  async function watcher (id: string): Promise<RawClient5> {
    return await subscriber(node, id, 'wd/#', { qos: 1 })
  }

  it('a will with Will Delay Interval 2 is published after the delay, not before (MQTT 5 §3.1.3.2.2)', async () => {
    const watch = await watcher('wdw1')
    const { raw } = await RawClient5.connect(node.mqttPort, 'wd1', {
      properties: { sessionExpiryInterval: 30 },
      will: { topic: 'wd/1', payload: Buffer.from('late'), qos: 1, retain: false, properties: { willDelayInterval: 2 } }
    })
    const dropped = Date.now()
    raw.close()
    await pause(1200)
    assert.equal(watch.received('publish').length, 0, 'no will before the delay')
    const [will] = await waitPublishes(watch, 1, 5000)
    assert.equal(will.payload.toString(), 'late')
    assert.ok(Date.now() - dropped >= 1900, `published after ${Date.now() - dropped} ms`)
    watch.close()
  })

  it('a will is not published when the client reconnects within the Will Delay Interval', async () => {
    const watch = await watcher('wdw2')
    const session = { clean: false, properties: { sessionExpiryInterval: 30 } }
    const { raw } = await RawClient5.connect(node.mqttPort, 'wd2', { ...session, will: { topic: 'wd/2', payload: Buffer.from('never'), qos: 1, retain: false, properties: { willDelayInterval: 2 } } })
    raw.close()
    await pause(500)
    const { raw: again, connack } = await RawClient5.connect(node.mqttPort, 'wd2', session)
    assert.equal(connack.sessionPresent, true)
    await pause(2500)
    assert.equal(watch.received('publish').length, 0)
    again.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } } as Packet)
    await again.waitClosed()
    watch.close()
  })

  /** Connects `id` with a will asking `willDelayInterval` 30 s, drops the connection: the will and the ms it took. */
  async function willAfterDrop (id: string, sessionExpiryInterval: number, payload: string): Promise<{ will: string, after: number }> {
    const watch = await watcher(`${id}w`)
    const { raw } = await RawClient5.connect(node.mqttPort, id, {
      properties: { sessionExpiryInterval },
      will: { topic: `wd/${id}`, payload: Buffer.from(payload), qos: 1, retain: false, properties: { willDelayInterval: 30 } }
    })
    const dropped = Date.now()
    raw.close()
    const [will] = await waitPublishes(watch, 1, 5000)
    const after = Date.now() - dropped
    watch.close()
    return { will: will.payload.toString(), after }
  }

  it('a will whose delay is longer than the Session Expiry Interval is published when the session ends (MQTT 5 §3.1.3.2.2)', async () => {
    const { will, after } = await willAfterDrop('wd3', 1, 'at session end')
    assert.equal(will, 'at session end')
    assert.ok(after >= 900, `published after ${after} ms`)
  })

  it('max_last_will_delay caps the Will Delay Interval a CONNECT asks for; client (the default) keeps it', async () => {
    const set = await node.admin(['set', 'max_last_will_delay=1s'])
    assert.equal(set.code, 0, set.stderr)
    try {
      const { will, after } = await willAfterDrop('wd4', 60, 'capped')
      assert.equal(will, 'capped')
      assert.ok(after >= 900 && after < 5000, `published after ${after} ms`)
    } finally {
      const back = await node.admin(['set', 'max_last_will_delay=client'])
      assert.equal(back.code, 0, back.stderr)
    }
    const shown = await node.admin(['show', 'max_last_will_delay'])
    assert.match(shown.stdout, new RegExp(`\\| ${node.nodename.replaceAll('.', '\\.')} +\\| client +\\|\n`))
  })

  it('a session taken over by a new connection: the old one gets DISCONNECT 0x8E (Session taken over)', async () => {
    const { raw: first } = await RawClient5.connect(node.mqttPort, 'taken')
    const { raw: second, connack } = await RawClient5.connect(node.mqttPort, 'taken')
    assert.equal(connack.reasonCode, 0)
    assert.equal((await first.next('disconnect') as IDisconnectPacket).reasonCode, 0x8e)
    await first.waitClosed()
    assert.equal(second.closed, false)
    second.close()
  })

  it('a client silent for 1.5 x its keep alive gets DISCONNECT 0x8D (Keep Alive timeout) and is closed, as VerneMQ does', async () => {
    const { raw, connack } = await RawClient5.connect(node.mqttPort, 'silent', { keepalive: 1 })
    assert.equal((connack as IConnackPacket).reasonCode, 0)
    const opened = Date.now()
    assert.equal((await raw.next('disconnect', 4000) as IDisconnectPacket).reasonCode, 0x8d)
    await raw.waitClosed()
    const after = Date.now() - opened
    assert.ok(after >= 1400 && after < 3500, `closed after ${after} ms`)
  })
})
