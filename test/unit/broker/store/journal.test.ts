// The journal of accepted messages not yet queued (see LevelPersistence.journal)
// replays them after a restart as they were published, MQTT 5 properties included.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { LevelPersistence } from '../../../../src/broker/store/level-persistence.js'
import { openStore as open, tempStoreDir } from './temp-store.js'

test('a journaled MQTT 5 message replays with its properties and the absolute expiry it was given', async () => {
  const dir = tempStoreDir('vmq-journal-')
  const properties = {
    userProperties: { a: '1' }, contentType: 'text/plain', responseTopic: 'r', correlationData: Buffer.from('c'), payloadFormatIndicator: true, messageExpiryInterval: 60
  }
  const first = await open(dir)
  const before = Date.now()
  await first.journal({ topic: 'v5', payload: Buffer.from('p5'), qos: 1, retain: false, properties })
  await first.journal({ topic: 'v4', payload: Buffer.from('p4'), qos: 1, retain: false })
  const afterJournal = Date.now()
  await first.destroy()

  const second = await open(dir)
  const [v5, v4] = second.takeJournal()
  assert.deepEqual({ ...v5, messageExpiry: undefined }, {
    cmd: 'publish', topic: 'v5', payload: Buffer.from('p5'), qos: 1, retain: false, properties, messageExpiry: undefined
  })
  const expiry = v5.messageExpiry as number
  assert.ok(expiry >= before + 60_000 && expiry <= afterJournal + 60_000, `expiry ${expiry} 60 s after the journal write`)
  assert.deepEqual(v4, { cmd: 'publish', topic: 'v4', payload: Buffer.from('p4'), qos: 1, retain: false })
  await second.destroy()
})

test('a held entry (a message routed to cluster members) outlives its local queueing and goes with release()', async () => {
  const dir = tempStoreDir('vmq-journal-')
  const first = await open(dir)
  const routed = { cmd: 'publish', topic: 't', payload: Buffer.from('routed'), qos: 1, retain: false }
  const released = { cmd: 'publish', topic: 't', payload: Buffer.from('released'), qos: 1, retain: false }
  const local = { cmd: 'publish', topic: 't', payload: Buffer.from('local'), qos: 1, retain: false }
  await first.journal(routed, true)
  await first.journal(released, true)
  await first.journal(local)
  for (const packet of [routed, released, local]) await first.outgoingEnqueueCombi([], packet)
  first.release(released.payload)
  await first.flushed()
  await first.destroy()

  const second = await open(dir)
  const replayed = second.takeJournal()
  assert.deepEqual(replayed.map(p => (p.payload as Buffer).toString()), ['routed'])
  // replayed entries are held too: queueing them again does not delete them, release does
  await second.outgoingEnqueueCombi([], replayed[0])
  await second.flushed()
  second.release(replayed[0].payload as Buffer)
  await second.flushed()
  await second.destroy()

  const third = await open(dir)
  assert.deepEqual(third.takeJournal(), [])
  await third.destroy()
})

test('a journaled message is queued from its journal entry as aedes would queue it, in memory and after a reopen', async () => {
  const dir = tempStoreDir('vmq-journal-')
  const aedesCopy = (payload: string, counter: number, retain: boolean): Record<string, unknown> => ({
    cmd: 'publish', brokerId: 'node-a', brokerCounter: counter, topic: 'q/t', payload: Buffer.from(payload), qos: 1, retain, dup: false, messageId: undefined
  })
  const first = await open(dir)
  const journaled = aedesCopy('journaled', 1, false)
  const retained = aedesCopy('retained', 2, true)
  const plain = aedesCopy('plain', 3, false)
  await first.journal({ topic: 'q/t', payload: journaled.payload, qos: 1, retain: false })
  await first.journal({ topic: 'q/t', payload: retained.payload, qos: 1, retain: true })
  for (const packet of [journaled, retained, plain]) {
    await first.outgoingEnqueueCombi([{ clientId: 'c1' }, { clientId: 'c2' }], packet)
  }
  const expected = [journaled, retained, plain]
  const queuedOf = async (store: LevelPersistence, clientId: string): Promise<unknown[]> => {
    const packets: unknown[] = []
    for await (const packet of store.queued({ id: clientId })) packets.push(packet)
    return packets
  }
  assert.deepEqual(await queuedOf(first, 'c1'), expected)
  await first.flushed()
  await first.destroy()

  const second = await open(dir)
  assert.deepEqual(second.takeJournal(), [], 'the journal entries went with the queueing')
  assert.deepEqual(await queuedOf(second, 'c1'), expected)
  assert.deepEqual(await queuedOf(second, 'c2'), expected)
  await second.destroy()
})
