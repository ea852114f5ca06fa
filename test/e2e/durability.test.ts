import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Packet } from 'mqtt-packet'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'

describe('the durable store', () => {
  it('survives kill -9: 10,000 QoS 1 messages queued for an offline session are all delivered once, in order', async () => {
    // override_max_online_messages: like VerneMQ, the queue layer otherwise cuts a resumed
    // backlog to max_inflight_messages + max_online_messages (test/e2e/queue-window.test.ts)
    let node = await startNode({ conf: [...OPEN_ACCESS, 'max_offline_messages = 20000', 'override_max_online_messages = on'] })
    try {
      const sub = await connect(node.mqttUrl, { clientId: 'durable', clean: false })
      await sub.subscribeAsync('dur/#', { qos: 1 })
      await sub.endAsync()
      const pub = await connect(node.mqttUrl)
      const count = 10000
      // bounded window of unacknowledged publishes: fast, and every PUBACK is awaited
      const inflight = new Set<Promise<unknown>>()
      for (let i = 0; i < count; i++) {
        const p = pub.publishAsync('dur/m', String(i), { qos: 1 })
        inflight.add(p)
        void p.finally(() => inflight.delete(p))
        if (inflight.size >= 100) await Promise.race(inflight)
      }
      await Promise.all(inflight)
      await pub.endAsync(true)
      await node.kill()
      node = await restartNode(node)
      const back = await connect(node.mqttUrl, { clientId: 'durable', clean: false })
      const got = collect(back)
      await waitFor(() => got.length >= count, 30000, `${count} messages after the restart`).catch(err => { throw new Error(`${(err as Error).message}: got ${got.length}`) })
      assert.equal(got.length, count)
      assert.deepEqual(got.map(m => Number(m.payload)), Array.from({ length: count }, (_, i) => i))
      await back.endAsync(true)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('keeps retained messages and persistent subscriptions across a restart', async () => {
    let node = await startNode({ conf: OPEN_ACCESS })
    try {
      const c = await connect(node.mqttUrl, { clientId: 'keeper', clean: false })
      await c.subscribeAsync('keep/#', { qos: 1 })
      await c.publishAsync('keep/retained', 'still here', { qos: 1, retain: true })
      await c.endAsync()
      await node.stop()
      node = await restartNode(node)
      const pub = await connect(node.mqttUrl)
      await pub.publishAsync('keep/live', 'after restart', { qos: 1 })
      const back = await connect(node.mqttUrl, { clientId: 'keeper', clean: false })
      const got = collect(back)
      await waitFor(() => got.some(m => m.payload === 'after restart'), 5000, 'the message queued for the stored subscription')
      const fresh = await connect(node.mqttUrl)
      const freshGot = collect(fresh)
      await fresh.subscribeAsync('keep/retained')
      await waitFor(() => freshGot.length === 1, 5000, 'the retained message')
      assert.equal(freshGot[0].payload, 'still here')
      await endAll(pub, back, fresh)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('a locked or corrupt data dir stops the start with a line naming the path', async () => {
    const first = await startNode({ conf: OPEN_ACCESS })
    try {
      const dataDir = join(first.dir, 'data')
      const second = await startNode({ conf: [...OPEN_ACCESS, `persistent_dir = ${dataDir}`], noWait: true })
      assert.equal(await second.waitExit(), 1)
      assert.match(second.stderr, new RegExp(`data dir ${join(dataDir, 'store', 'default')} is locked by another process`))
      second.cleanup()
    } finally {
      await first.stop()
      first.cleanup()
    }
    const broken = await startNode({ conf: OPEN_ACCESS, noWait: true })
    await broken.stop()
    const storeDir = join(broken.dir, 'data', 'store', 'default')
    mkdirSync(storeDir, { recursive: true })
    writeFileSync(join(storeDir, 'CURRENT'), 'MANIFEST-999999\n')
    const again = await startNode({ conf: [...OPEN_ACCESS, `persistent_dir = ${join(broken.dir, 'data')}`], noWait: true })
    assert.equal(await again.waitExit(), 1)
    assert.match(again.stderr, new RegExp(`data dir ${storeDir} is corrupt`))
    assert.doesNotMatch(again.stderr, /\n\s+at /, 'no stack trace')
    broken.cleanup()
    again.cleanup()
  })

  it('a clean session that reuses a packet id of a stale QoS 2 exchange gets its message delivered', async () => {
    const node = await startNode({ conf: OPEN_ACCESS })
    try {
      const sub = await connect(node.mqttUrl)
      const got = collect(sub)
      await sub.subscribeAsync('q2/#', { qos: 2 })
      // first session: PUBLISH QoS 2 id 7, then vanish without PUBREL
      const stale = await RawClient.open(node.mqttPort, 'q2client', { clean: false })
      await stale.next('connack')
      stale.send({ cmd: 'publish', topic: 'q2/old', payload: Buffer.from('old'), qos: 2, messageId: 7, retain: false, dup: false } as Packet)
      await stale.next('pubrec')
      stale.close()
      // new clean session of the same id, same packet id
      const fresh = await RawClient.open(node.mqttPort, 'q2client', { clean: true })
      await fresh.next('connack')
      fresh.send({ cmd: 'publish', topic: 'q2/new', payload: Buffer.from('new'), qos: 2, messageId: 7, retain: false, dup: false } as Packet)
      await fresh.next('pubrec')
      fresh.send({ cmd: 'pubrel', messageId: 7 } as Packet)
      await fresh.next('pubcomp')
      await waitFor(() => got.some(m => m.payload === 'new'), 5000, 'the new message')
      fresh.close()
      await endAll(sub)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
