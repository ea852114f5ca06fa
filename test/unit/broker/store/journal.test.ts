// The journal of accepted messages not yet queued (see LevelPersistence.journal)
// replays them after a restart as they were published, MQTT 5 properties included.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLevelPersistence, type LevelPersistence } from '../../../../src/broker/store/level-persistence.js'

const dirs: string[] = []
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

async function open (path: string): Promise<LevelPersistence> {
  const store = await openLevelPersistence({ path, maxOfflineMessages: -1 })
  await store.setup({ id: 'node-a', clients: {} })
  return store
}

test('a journaled MQTT 5 message replays with its properties and the absolute expiry it was given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmq-journal-'))
  dirs.push(dir)
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
