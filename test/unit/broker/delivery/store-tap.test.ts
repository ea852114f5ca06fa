// The queue layer over the node's durable store: deleting a dropped message's stored copy by origin,
// and stubs never reaching the store.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { BrokerCounters } from '../../../../src/broker/counters.js'
import { INJECTED_BROKER_ID } from '../../../../src/broker/delivery/adapter.js'
import { Queues } from '../../../../src/broker/delivery/queues.js'
import type { QueueSettings } from '../../../../src/broker/delivery/settings.js'
import type { Persistence, StoredPacket } from '../../../../src/broker/store/persistence.js'
import type { DurableStore } from '../../../../src/broker/store/durable-store.js'
import { openLevelPersistence } from '../../../../src/broker/store/level-persistence.js'

function message (n: number): StoredPacket {
  return { cmd: 'publish', topic: 't', payload: Buffer.from(`m${n}`), qos: 1, retain: false, brokerId: 'origin', brokerCounter: n }
}

async function stored (p: Persistence, id: string): Promise<string[]> {
  const all: string[] = []
  for await (const packet of p.outgoingStream({ id })) all.push(Buffer.from(packet.payload).toString())
  return all
}

async function settle (): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
}

const stores: Array<[string, () => Promise<{ store: DurableStore, done: () => Promise<void> }>]> = [
  ['LevelDB store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmq-tap-'))
    const store: DurableStore = await openLevelPersistence({ path: dir })
    await store.setup({ id: 'b', clients: {} })
    return { store, done: async () => { await store.destroy(); rmSync(dir, { recursive: true, force: true }) } }
  }]
]

for (const [name, open] of stores) {
  describe(`the delivery layer on the ${name}`, () => {
    it('deletes a stored copy by origin and never stores or clears a stub', async () => {
      const { store, done } = await open()
      const queues = new Queues({ mountpoint: '', settings: {} as QueueSettings, counters: new BrokerCounters(), log: pino({ level: 'silent' }), store, persistentClients: () => [] })
      const p = queues.persistence
      for (let n = 1; n <= 3; n++) await p.outgoingEnqueueCombi([{ clientId: 'c', topic: 't', qos: 1 }], message(n))
      await settle()
      assert.deepEqual(await stored(p, 'c'), ['m1', 'm2', 'm3'])

      await queues.forget('c', message(2))
      assert.deepEqual(await stored(p, 'c'), ['m1', 'm3'])

      const enqueue = (p as unknown as { outgoingEnqueue: (sub: { clientId: string }, packet: StoredPacket) => Promise<void> }).outgoingEnqueue
      await enqueue({ clientId: 'c' }, { ...message(9), brokerId: INJECTED_BROKER_ID })
      assert.equal(await p.outgoingClearMessageId({ id: 'c' }, { ...message(9), brokerId: INJECTED_BROKER_ID }), undefined)
      await settle()
      assert.deepEqual(await stored(p, 'c'), ['m1', 'm3'])
      queues.stop()
      await done()
    })
  })
}
