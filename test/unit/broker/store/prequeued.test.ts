// An accepted message for persistent sessions is written as queued for them
// before it is acknowledged (src/broker/store/prequeued.ts): what aedes then
// queues, or a crash before it does, leaves each session's queue as the
// journal did, and in order.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { openLevelPersistence, type LevelPersistence } from '../../../../src/broker/store/level-persistence.js'

const dirs: string[] = []
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

const BROKER = { id: 'node-a', clients: {} as Record<string, unknown> }

function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmq-prequeued-'))
  dirs.push(dir)
  return dir
}

async function open (path: string, maxOfflineMessages = -1): Promise<LevelPersistence> {
  const store = await openLevelPersistence({ path, maxOfflineMessages })
  await store.setup(BROKER)
  return store
}

/** What the node journals, then the copy aedes queues (same payload Buffer). */
function message (text: string, counter: number): { accepted: Record<string, unknown>, routed: Record<string, unknown> } {
  const payload = Buffer.from(text)
  return {
    accepted: { topic: 'q/t', payload, qos: 1, retain: false },
    routed: { cmd: 'publish', brokerId: BROKER.id, brokerCounter: counter, topic: 'q/t', payload, qos: 1, retain: false, dup: false, messageId: undefined }
  }
}

async function payloads (store: LevelPersistence, clientId: string): Promise<string[]> {
  const out: string[] = []
  for await (const packet of store.queued({ id: clientId })) out.push((packet.payload).toString())
  return out
}

async function subscribed (dir: string, maxOfflineMessages = -1): Promise<LevelPersistence> {
  const store = await open(dir, maxOfflineMessages)
  for (const id of ['c1', 'c2']) await store.addSubscriptions({ id }, [{ topic: 'q/#', qos: 1 }])
  return store
}

async function keys (dir: string): Promise<string[]> {
  const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' })
  const out: string[] = []
  for await (const key of db.keys()) out.push(key)
  await db.close()
  return out
}

test('a message acknowledged and never queued before a stop is queued for the sessions subscribed when it was accepted', async () => {
  const dir = tempDir()
  const first = await subscribed(dir)
  await first.journal(message('a', 1).accepted)
  await first.destroy()

  const second = await open(dir)
  assert.deepEqual(second.takeJournal(), [], 'nothing to replay: it is queued')
  assert.deepEqual(await payloads(second, 'c1'), ['a'])
  assert.deepEqual(await payloads(second, 'c2'), ['a'])
  await second.destroy()
})

test('a prequeued message reads back as aedes queued it; after a reopen with the origin of its record', async () => {
  const dir = tempDir()
  const first = await subscribed(dir)
  const a = message('a', 1)
  await first.journal(a.accepted)
  await first.outgoingEnqueueCombi(await first.subscriptionsByTopic('q/t'), a.routed)
  const copies: unknown[] = []
  for await (const packet of first.queued({ id: 'c1' })) copies.push(packet)
  assert.deepEqual(copies, [a.routed])
  await first.flushed()
  await first.destroy()

  const second = await open(dir)
  const reopened: Array<Record<string, unknown>> = []
  for await (const packet of second.queued({ id: 'c2' })) reopened.push(packet as Record<string, unknown>)
  assert.deepEqual(reopened, [{ ...a.routed, brokerId: 'vmq-store', brokerCounter: 1 }])
  await second.destroy()
})

test('one write per message: the record written before the acknowledgement is the one kept', async () => {
  const dir = tempDir()
  const first = await subscribed(dir)
  const matches = await first.subscriptionsByTopic('q/t')
  for (let i = 0; i < 3; i++) {
    const m = message(`m${i}`, i + 1)
    await first.journal(m.accepted)
    await first.outgoingEnqueueCombi(matches, m.routed)
  }
  await first.flushed()
  await first.destroy()
  const stored = await keys(dir)
  assert.deepEqual(stored.filter(k => k.startsWith('q') || k.startsWith('j')), ['q0000000000000001', 'q0000000000000002', 'q0000000000000003'])

  const second = await open(dir)
  assert.deepEqual(await payloads(second, 'c1'), ['m0', 'm1', 'm2'])
  await second.destroy()
})

test('a prequeued message overtaken by a later one is queued after it, under a new seq, in memory and after a reopen', async () => {
  const dir = tempDir()
  const first = await subscribed(dir)
  const matches = await first.subscriptionsByTopic('q/t')
  const a = message('a', 1)
  const b = message('b', 2)
  await first.journal(a.accepted)
  await first.journal(b.accepted)
  await first.outgoingEnqueueCombi(matches, b.routed)
  await first.outgoingEnqueueCombi(matches, a.routed)
  assert.deepEqual(await payloads(first, 'c1'), ['b', 'a'])
  await first.flushed()
  await first.destroy()

  const second = await open(dir)
  assert.deepEqual(await payloads(second, 'c1'), ['b', 'a'])
  assert.deepEqual(await payloads(second, 'c2'), ['b', 'a'])
  await second.destroy()
})

test('a copy dropped at max_offline_messages leaves the prequeued record naming only the sessions that queued it', async () => {
  const dir = tempDir()
  const first = await subscribed(dir, 1)
  const matches = await first.subscriptionsByTopic('q/t')
  const early = message('early', 1)
  await first.outgoingEnqueueCombi([{ clientId: 'c2' }], early.routed)
  const a = message('a', 2)
  await first.journal(a.accepted)
  await first.outgoingEnqueueCombi(matches, a.routed)
  assert.deepEqual(await payloads(first, 'c1'), ['a'])
  assert.deepEqual(await payloads(first, 'c2'), ['early'])
  await first.flushed()
  await first.destroy()

  const second = await open(dir, 1)
  assert.deepEqual(await payloads(second, 'c1'), ['a'])
  assert.deepEqual(await payloads(second, 'c2'), ['early'])
  await second.destroy()
})

test('a copy sent and acknowledged is not queued again after a reopen, one sent and not acknowledged is', async () => {
  const dir = tempDir()
  const first = await subscribed(dir)
  const matches = await first.subscriptionsByTopic('q/t')
  const sent = []
  for (let i = 0; i < 3; i++) {
    const m = message(`m${i}`, i + 1)
    await first.journal(m.accepted)
    await first.outgoingEnqueueCombi(matches, m.routed)
    sent.push(m.routed)
  }
  // c1 gets m0 and m1 with packet ids 1 and 2 and acknowledges m0
  const streamed: Array<Record<string, unknown>> = []
  for await (const packet of first.queued({ id: 'c1' })) streamed.push(packet as Record<string, unknown>)
  assert.deepEqual(streamed.map(p => [p.brokerId, p.brokerCounter]), sent.map(p => [p.brokerId, p.brokerCounter]))
  await first.outgoingUpdate({ id: 'c1' }, { ...streamed[0], messageId: 1 })
  await first.outgoingUpdate({ id: 'c1' }, { ...streamed[1], messageId: 2 })
  first.clearAcked('c1', 1)
  await first.flushed()
  await first.destroy()

  const second = await open(dir)
  assert.deepEqual(await payloads(second, 'c1'), ['m1', 'm2'])
  assert.deepEqual(await payloads(second, 'c2'), ['m0', 'm1', 'm2'])
  await second.destroy()
})

test('a client acknowledging a later message while an accepted one is not yet queued keeps the accepted one over a stop', async () => {
  const dir = tempDir()
  const first = await subscribed(dir)
  const a = message('a', 1)
  await first.journal(a.accepted)
  // b is queued without a record written before (as a message from a cluster member is)
  const b = message('b', 2)
  await first.outgoingEnqueueCombi([{ clientId: 'c1' }, { clientId: 'c2' }], b.routed)
  const [copy] = await (async () => {
    const out: Array<Record<string, unknown>> = []
    for await (const packet of first.queued({ id: 'c1' })) out.push(packet as Record<string, unknown>)
    return out
  })()
  await first.outgoingUpdate({ id: 'c1' }, { ...copy, messageId: 1 })
  first.clearAcked('c1', 1)
  // c1's progress now covers seq 2; what is written must not cover a (seq 1), which aedes has not queued yet
  await first.flushed()
  await first.destroy()

  const second = await open(dir)
  // b comes back to c1 (QoS 1 allows the duplicate); a must
  assert.deepEqual(await payloads(second, 'c1'), ['a', 'b'])
  assert.deepEqual(await payloads(second, 'c2'), ['a', 'b'])
  await second.destroy()
})

test('a message accepted on a node with cluster members is journaled, not prequeued, and replayed after a stop', async () => {
  const dir = tempDir()
  const first = await subscribed(dir)
  await first.journal(message('a', 1).accepted, false, false)
  await first.destroy()

  const second = await open(dir)
  assert.deepEqual(second.takeJournal().map(p => String(p.payload)), ['a'], 'routed again from the journal, to wherever the sessions are')
  assert.deepEqual(await payloads(second, 'c1'), [])
  await second.destroy()
})
