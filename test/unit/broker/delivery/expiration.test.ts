import { test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { ExpirationSweeper } from '../../../../src/broker/delivery/expiration.js'
import { BrokerCounters } from '../../../../src/broker/counters.js'
import { memoryPersistence } from '../../../../src/broker/store/persistence.js'
import type { QueueSettings } from '../../../../src/broker/delivery/settings.js'

test('deletes offline persistent sessions older than the expiration, with their queue; keeps online and recent ones', async () => {
  const persistence = memoryPersistence()
  await persistence.setup({ id: 'test' })
  for (const id of ['old', 'recent', 'online']) {
    await persistence.addSubscriptions({ id }, [{ topic: `${id}/t`, qos: 1 }])
    await persistence.outgoingEnqueueCombi([{ clientId: id, topic: `${id}/t`, qos: 1 }], { cmd: 'publish', topic: `${id}/t`, payload: Buffer.from('x'), qos: 1, retain: false, brokerId: 'b', brokerCounter: 1 })
  }
  const settings = { expirationMs: 1000 } as QueueSettings
  const counters = new BrokerCounters()
  const sweeper = new ExpirationSweeper({
    settings, counters, log: pino({ level: 'silent' }), mountpoint: '', persistence,
    persistentClients: () => ['old', 'recent', 'online'],
    isOnline: id => id === 'online'
  })
  const now = Date.now()
  sweeper.wentOffline('recent')
  assert.deepEqual(await sweeper.sweep(now + 500), [])
  assert.deepEqual(await sweeper.sweep(now + 1100).then(ids => ids.sort()), ['old', 'recent'])
  assert.deepEqual(await persistence.subscriptionsByClient({ id: 'old' }), [])
  const left: unknown[] = []
  for await (const p of persistence.outgoingStream({ id: 'old' })) left.push(p)
  assert.deepEqual(left, [])
  assert.equal((await persistence.subscriptionsByClient({ id: 'online' }))?.length, 1)
  assert.equal(counters.sessionsExpired, 2)
  settings.expirationMs = null
  assert.deepEqual(await sweeper.sweep(now + 1e9), [])
  sweeper.stop()
})
