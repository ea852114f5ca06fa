// LevelPersistence.expireRetained: the messages its predicate names are
// deleted, in memory and on disk; a topic stored again while it reads keeps
// its new message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { LevelPersistence } from '../../../../src/broker/store/level-persistence.js'
import { openStore as open, tempStoreDir } from './temp-store.js'

async function retained (store: LevelPersistence): Promise<string[]> {
  const out: string[] = []
  for await (const p of store.createRetainedStream('#')) out.push(`${String(p.topic)}=${String(p.payload)}`)
  return out.sort()
}

function retain (topic: string, payload: string): Record<string, unknown> {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: true }
}

test('expireRetained deletes what the predicate names, keeps a topic stored again meanwhile, and the deletes reach the disk', async () => {
  const dir = tempStoreDir('vmq-retained-expiry-')
  const store = await open(dir)
  await store.storeRetained(retain('gone', 'old'))
  await store.storeRetained(retain('again', 'old'))
  await store.storeRetained(retain('kept', 'fresh'))
  let storedMeanwhile = false
  const deleted = await store.expireRetained(message => {
    if (!storedMeanwhile) {
      storedMeanwhile = true
      void store.storeRetained(retain('again', 'new'))
    }
    return String(message.payload) === 'old'
  })
  assert.equal(deleted, 1)
  assert.deepEqual(await retained(store), ['again=new', 'kept=fresh'])
  await store.destroy()
  const reopened = await open(dir)
  assert.deepEqual(await retained(reopened), ['again=new', 'kept=fresh'])
  await reopened.destroy()
})
