// What survives a close/reopen and a kill -9, and how a bad data dir is refused.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { openLevelPersistence, type LevelPersistence } from '../../../../src/broker/store/level-persistence.js'
import { StoreError } from '../../../../src/broker/store/open-db.js'

const KILL_CHILD_ENV = 'VMQ_STORE_KILL_CHILD_DIR'
const BROKER = { id: 'node-a', clients: {} }

function publish (topic: string, n: number, counter: number): Record<string, unknown> {
  return {
    cmd: 'publish', topic, payload: Buffer.from(`m${n}`), qos: 1, retain: false, dup: false,
    brokerId: BROKER.id, brokerCounter: counter
  }
}

async function streamed (store: LevelPersistence, clientId: string): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  for await (const p of store.outgoingStream({ id: clientId })) out.push(p)
  return out
}

async function open (path: string): Promise<LevelPersistence> {
  const store = await openLevelPersistence({ path, maxOfflineMessages: -1 })
  await store.setup(BROKER)
  return store
}

// The child half of the kill -9 test: write, report, wait to be killed.
async function runKillChild (dir: string): Promise<void> {
  const store = await open(dir)
  await store.addSubscriptions({ id: 'sub' }, [{ topic: 'k/#', qos: 1 }])
  await store.storeRetained({ cmd: 'publish', topic: 'k/retained', payload: Buffer.from('kept'), qos: 0, retain: true })
  for (let i = 0; i < 500; i++) await store.outgoingEnqueue({ clientId: 'sub' }, publish('k/x', i, i + 1))
  await store.flushed()
  process.stdout.write('written\n')
  setInterval(() => {}, 1000)
}

if (process.env[KILL_CHILD_ENV] !== undefined) {
  await runKillChild(process.env[KILL_CHILD_ENV])
} else {
  const dirs: string[] = []
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'vmq-store-restart-'))
    dirs.push(dir)
    return dir
  }
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  test('subscriptions, retained messages, queues, in-flight state and wills survive a reopen', async () => {
    const dir = tempDir()
    const first = await open(dir)
    await first.addSubscriptions({ id: 'alice' }, [
      { topic: 'a/+/c', qos: 1, rh: 0, rap: false, nl: false },
      { topic: 'zero', qos: 0, rh: 0, rap: false, nl: false },
      { topic: 'v5', qos: 2, rh: 1, rap: true, nl: true, subscriptionIdentifier: 7 }
    ])
    await first.storeRetained({ cmd: 'publish', topic: 'r/1', payload: Buffer.from('one'), qos: 1, retain: true })
    await first.storeRetained({ cmd: 'publish', topic: 'r/2', payload: Buffer.from('two'), qos: 0, retain: true })
    await first.storeRetained({ cmd: 'publish', topic: 'r/2', payload: Buffer.alloc(0), qos: 0, retain: true })
    for (let i = 0; i < 5; i++) await first.outgoingEnqueue({ clientId: 'alice' }, publish('a/b/c', i, 100 + i))
    // m0 was sent with packet id 9, m1 reached PUBREL with packet id 10
    await first.outgoingUpdate({ id: 'alice' }, { ...publish('a/b/c', 0, 100), messageId: 9 })
    await first.outgoingUpdate({ id: 'alice' }, { ...publish('a/b/c', 1, 101), messageId: 10 })
    await first.outgoingUpdate({ id: 'alice' }, { cmd: 'pubrel', messageId: 10 })
    await first.incomingStorePacket({ id: 'alice' }, { ...publish('in', 0, 1), qos: 2, messageId: 3 })
    await first.putWill({ id: 'alice' }, { topic: 'gone/alice', payload: Buffer.from('bye'), qos: 1, retain: false })
    await first.destroy()

    const second = await open(dir)
    assert.deepEqual(await second.subscriptionsByClient({ id: 'alice' }), [
      { topic: 'a/+/c', qos: 1, rh: 0, rap: false, nl: false },
      { topic: 'v5', qos: 2, rh: 1, rap: true, nl: true, subscriptionIdentifier: 7 },
      { topic: 'zero', qos: 0, rh: 0, rap: false, nl: false }
    ])
    assert.deepEqual((await second.subscriptionsByTopic('a/b/c')).map(s => [s.clientId, s.topic, s.qos]), [['alice', 'a/+/c', 1]])
    assert.deepEqual(await second.subscriptionsByTopic('zero'), [])
    assert.deepEqual(await second.countOffline(), { subsCount: 2, clientsCount: 1 })

    const retained: Array<Record<string, unknown>> = []
    for await (const p of second.createRetainedStream('r/#')) retained.push(p)
    assert.deepEqual(retained.map(p => [p.topic, String(p.payload)]), [['r/1', 'one']])

    const queued = await streamed(second, 'alice')
    assert.deepEqual(queued.map(p => p.cmd === 'pubrel' ? `pubrel ${String(p.messageId)}` : String(p.payload)),
      ['m0', 'pubrel 10', 'm2', 'm3', 'm4'])
    assert.equal(queued[0].messageId, 9)
    assert.equal(queued[2].messageId, undefined)
    // the acknowledgements of the pre-restart packet ids still find their messages
    const acked = await second.outgoingClearMessageId({ id: 'alice' }, { messageId: 9 })
    assert.equal(String(acked?.payload), 'm0')
    const completed = await second.outgoingClearMessageId({ id: 'alice' }, { messageId: 10 })
    assert.equal(completed?.cmd, 'pubrel')
    assert.equal(second.queueLength('alice'), 3)

    const incoming = await second.incomingGetPacket({ id: 'alice' }, { messageId: 3 })
    assert.equal(String(incoming.payload), 'm0')
    const will = await second.getWill({ id: 'alice' })
    assert.equal(will?.topic, 'gone/alice')
    assert.equal(will?.brokerId, 'node-a')
    await second.destroy()
  })

  test('a persistent session without subscriptions survives a reopen until its subscriptions are cleaned', async () => {
    const dir = tempDir()
    let store = await open(dir)
    assert.equal(store.hasSession('bare'), false)
    await store.markSession('bare')
    await store.destroy()
    store = await open(dir)
    assert.equal(store.hasSession('bare'), true)
    await store.cleanSubscriptions({ id: 'bare' })
    await store.destroy()
    store = await open(dir)
    assert.equal(store.hasSession('bare'), false)
    await store.destroy()
  })

  test('10,000 messages queued for an offline client come back in order after a reopen', async () => {
    const dir = tempDir()
    const first = await open(dir)
    const total = 10_000
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < total; i++) writes.push(first.outgoingEnqueue({ clientId: 'offline' }, publish('q', i, i + 1)))
    await Promise.all(writes)
    await first.destroy()

    const second = await open(dir)
    assert.equal(second.queueLength('offline'), total)
    const queued = await streamed(second, 'offline')
    assert.equal(queued.length, total)
    queued.forEach((p, i) => assert.equal(String(p.payload), `m${i}`))
    // messages queued after the reopen go behind the old ones
    await second.outgoingEnqueue({ clientId: 'offline' }, publish('q', total, total + 1))
    const all = await streamed(second, 'offline')
    assert.equal(String(all[all.length - 1].payload), `m${total}`)
    await second.destroy()
  })

  test('a message queued for several clients is stored once; each client\'s acks, in order or not, survive a reopen', async () => {
    const dir = tempDir()
    const first = await open(dir)
    const clients = ['c1', 'c2', 'c3']
    for (let i = 0; i < 4; i++) {
      await first.outgoingEnqueueCombi(clients.map(clientId => ({ clientId })), publish('s', i, 200 + i))
    }
    // c2 has overlapping subscriptions: a second copy of m3
    await first.outgoingEnqueueCombi([{ clientId: 'c2' }, { clientId: 'c2' }], publish('s', 4, 204))
    // c1 acks m0 and m1 in order, c2 acks m2 only (out of order), c3 nothing
    for (const [clientId, n, id] of [['c1', 0, 1], ['c1', 1, 2], ['c2', 2, 3]] as const) {
      await first.outgoingUpdate({ id: clientId }, { ...publish('s', n, 200 + n), messageId: id })
      first.clearAcked(clientId, id)
    }
    // c3 was sent m0 with packet id 7
    await first.outgoingUpdate({ id: 'c3' }, { ...publish('s', 0, 200), messageId: 7 })
    await first.flushed()
    const payloads = async (store: LevelPersistence, clientId: string): Promise<string[]> =>
      (await streamed(store, clientId)).map(p => String(p.payload) + (p.messageId !== undefined ? `#${String(p.messageId)}` : ''))
    const before = Object.fromEntries(await Promise.all(['c1', 'c2', 'c3'].map(async c => [c, await payloads(first, c)])))
    assert.deepEqual(before, {
      c1: ['m2', 'm3'],
      c2: ['m0', 'm1', 'm3', 'm4', 'm4'],
      c3: ['m0#7', 'm1', 'm2', 'm3']
    })
    await first.destroy()

    let store = await open(dir)
    assert.deepEqual(Object.fromEntries(await Promise.all(['c1', 'c2', 'c3'].map(async c => [c, await payloads(store, c)]))), before)
    // everyone takes the rest: nothing is left on disk but the watermarks
    store.clearAcked('c3', 7)
    for (const clientId of clients) {
      for (let n = store.queueLength(clientId); n > 0; n--) await store.outgoingClearMessageId({ id: clientId }, undefined)
    }
    await store.destroy()
    const db = new ClassicLevel<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    const keys = (await db.keys().all()).filter(k => !k.startsWith('m'))
    await db.close()
    assert.deepEqual(keys.sort(), ['ac1', 'ac2', 'ac3'])
    store = await open(dir)
    for (const clientId of clients) assert.equal(store.queueLength(clientId), 0)
    // new messages are not mistaken for acknowledged ones
    await store.outgoingEnqueueCombi(clients.map(clientId => ({ clientId })), publish('s', 5, 205))
    await store.destroy()
    store = await open(dir)
    for (const clientId of clients) assert.deepEqual(await payloads(store, clientId), ['m5'])
    await store.destroy()
  })

  test('a QoS 2 copy of a shared message that reached PUBREL comes back as the PUBREL alone', async () => {
    const dir = tempDir()
    const first = await open(dir)
    const qos2 = { ...publish('t', 0, 400), qos: 2 }
    await first.outgoingEnqueueCombi([{ clientId: 'p' }, { clientId: 'q' }], qos2)
    await first.outgoingUpdate({ id: 'p' }, { ...qos2, messageId: 5 })
    await first.outgoingUpdate({ id: 'p' }, { cmd: 'pubrel', messageId: 5 })
    await first.destroy()
    const second = await open(dir)
    assert.deepEqual((await streamed(second, 'p')).map(p => [p.cmd, p.messageId]), [['pubrel', 5]])
    assert.deepEqual((await streamed(second, 'q')).map(p => String(p.payload)), ['m0'])
    second.clearAcked('p', 5)
    await second.outgoingClearMessageId({ id: 'q' }, undefined)
    await second.destroy()
    const third = await open(dir)
    assert.equal(third.queueLength('p') + third.queueLength('q'), 0)
    await third.destroy()
  })

  test('queue_type = lifo drops the oldest shared copy of a full queue, also after a reopen', async () => {
    const dir = tempDir()
    const first = await openLevelPersistence({ path: dir, maxOfflineMessages: 2 })
    await first.setup(BROKER)
    first.setLifo(true)
    for (let i = 0; i < 4; i++) await first.outgoingEnqueueCombi([{ clientId: 'a' }, { clientId: 'b' }], publish('l', i, 300 + i))
    await first.destroy()
    const second = await open(dir)
    for (const clientId of ['a', 'b']) assert.deepEqual((await streamed(second, clientId)).map(p => String(p.payload)), ['m2', 'm3'])
    await second.destroy()
  })

  test('what was written before a kill -9 is there after it', async () => {
    const dir = tempDir()
    const script = fileURLToPath(import.meta.url)
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, [KILL_CHILD_ENV]: dir },
      stdio: ['ignore', 'pipe', 'inherit']
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not finish writing in 30 s')), 30_000)
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('written')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.on('exit', code => reject(new Error(`child exited early with ${String(code)}`)))
    })
    const exited = new Promise(resolve => child.on('exit', resolve))
    child.kill('SIGKILL')
    await exited

    const store = await open(dir)
    assert.equal(store.queueLength('sub'), 500)
    const queued = await streamed(store, 'sub')
    queued.forEach((p, i) => assert.equal(String(p.payload), `m${i}`))
    assert.deepEqual((await store.subscriptionsByTopic('k/x')).map(s => s.clientId), ['sub'])
    const retained: Array<Record<string, unknown>> = []
    for await (const p of store.createRetainedStream('k/retained')) retained.push(p)
    assert.equal(String(retained[0]?.payload), 'kept')
    await store.destroy()
  })

  test('a data dir open in another store is refused as locked', async () => {
    const dir = tempDir()
    const first = await open(dir)
    await assert.rejects(openLevelPersistence({ path: dir }), (err: unknown) => {
      assert.ok(err instanceof StoreError)
      assert.equal(err.code, 'STORE_LOCKED')
      assert.equal(err.message, `data dir ${dir} is locked by another process`)
      return true
    })
    await first.destroy()
    const again = await open(dir)
    await again.destroy()
  })

  test('a corrupt data dir is refused, naming the dir and the reason', async () => {
    const dir = tempDir()
    const store = await open(dir)
    await store.outgoingEnqueue({ clientId: 'c' }, publish('t', 0, 1))
    await store.destroy()
    const manifest = readdirSync(dir).find(f => f.startsWith('MANIFEST-'))
    assert.ok(manifest !== undefined)
    writeFileSync(join(dir, manifest), 'not a manifest')
    await assert.rejects(openLevelPersistence({ path: dir }), (err: unknown) => {
      assert.ok(err instanceof StoreError)
      assert.equal(err.code, 'STORE_CORRUPT')
      assert.match(err.message, new RegExp(`^data dir ${dir} is corrupt: .+`))
      return true
    })
  })

  test('a stored record that cannot be read is reported with its key', async () => {
    const dir = tempDir()
    const store = await open(dir)
    await store.destroy()
    const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' })
    await db.put('o1:c\x000000000000000001', Buffer.from('garbage'))
    await db.close()
    await assert.rejects(openLevelPersistence({ path: dir }), (err: unknown) => {
      assert.ok(err instanceof StoreError)
      assert.equal(err.code, 'STORE_CORRUPT')
      assert.equal(err.message, `data dir ${dir} is corrupt: key "o1:c\\u00000000000000000001": unreadable queued message (format byte 103, 7 bytes)`)
      return true
    })
  })

  test('a data dir whose CURRENT file is gone is refused instead of silently emptied', async () => {
    const dir = tempDir()
    const store = await open(dir)
    await store.outgoingEnqueue({ clientId: 'c' }, publish('t', 0, 1))
    await store.destroy()
    rmSync(join(dir, 'CURRENT'))
    await assert.rejects(openLevelPersistence({ path: dir }), {
      message: `data dir ${dir} is corrupt: its CURRENT file is missing`
    })
  })

  test('a path that is a file, or a LevelDB that is not ours, is refused', async () => {
    const dir = tempDir()
    const file = join(dir, 'plain-file')
    writeFileSync(file, 'x')
    await assert.rejects(openLevelPersistence({ path: file }), {
      message: `data dir ${file} cannot be opened: it is not a directory`
    })
    const foreign = join(dir, 'foreign')
    const other = new ClassicLevel(foreign)
    await other.put('some', 'thing')
    await other.close()
    await assert.rejects(openLevelPersistence({ path: foreign }), {
      message: `data dir ${foreign} holds a LevelDB database that is not a vmq-ts store`
    })
  })
}
