// The data directory on a read-only or full file system (a small tmpfs, which
// needs root to mount): a clear line at start, and at run time a failed store
// write makes the node refuse persistent sessions instead of writing on, until
// a test write succeeds again. (A tmpfs cannot be made read-only while the
// node holds its files open for writing: a full one is the run-time failure.)
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import mqtt, { type IClientOptions } from 'mqtt'
import { collect, connackCode, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, restartNode, startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'
import { scrape } from './helpers/prom.js'

function mount (dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true })
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status === 0
}

function unmount (dir: string): void {
  spawnSync('umount', [dir])
}

const probe = tempDir()
const canMount = mount(join(probe, 'm'), 'size=1m')
unmount(join(probe, 'm'))
rmSync(probe, { recursive: true, force: true })
const skip = canMount ? false : 'mounting a tmpfs needs root'

/** Writes `file` until the file system is full (bounded). */
function fill (file: string): void {
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (let i = 0; i < 1000; i++) writeSync(fd, chunk)
    assert.fail('the file system did not fill up')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    closeSync(fd)
  }
}

/** Writes `file` so that the file system keeps `bytes` free. */
function fillLeaving (file: string, bytes: number): void {
  const fs = statfsSync(join(file, '..'))
  writeFileSync(file, Buffer.alloc(fs.bavail * fs.bsize - bytes))
}

/** Connects a client and says whether its CONNACK had Session Present. */
async function connectPresent (url: string, opts: IClientOptions): Promise<{ client: mqtt.MqttClient, present: boolean }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  collect(client) // from the start: a resumed session's messages may come with the CONNACK
  const present = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', connack => { resolve(connack.sessionPresent) })
    client.once('error', err => { client.end(true); reject(err) })
  })
  return { client, present }
}

async function get (port: number, path: string): Promise<{ status: number, body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.text() }
}

describe('data directory on a read-only or full file system', { skip }, () => {
  it('a read-only persistent_dir stops the start with one line naming it and the reason', async () => {
    const dir = tempDir()
    const mnt = join(dir, 'ro')
    try {
      assert.ok(mount(mnt, 'size=1m'))
      const first = await startNode({ conf: [...OPEN_ACCESS, `persistent_dir = ${join(mnt, 'data')}`] })
      await first.stop()
      first.cleanup()
      assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0)
      for (const data of [join(mnt, 'data'), join(mnt, 'new')]) {
        const node = await startNode({ conf: [...OPEN_ACCESS, `persistent_dir = ${data}`], noWait: true })
        assert.equal(await node.waitExit(), 1, node.stdout)
        const lines = node.stderr.trimEnd().split('\n')
        assert.equal(lines.length, 1, node.stderr)
        assert.match(lines[0], new RegExp(`^Error: cannot start the node: persistent_dir: data dir ${join(data, 'store', 'default')} cannot be (opened|created): .*[Rr]ead-only file system`))
        node.cleanup()
      }
    } finally {
      unmount(mnt)
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a full disk: one error line, persistent sessions refused (3 / 0x88), clean sessions work, the store opens after a restart', async () => {
    const dir = tempDir()
    const mnt = join(dir, 'small')
    let node: TestNode | undefined
    try {
      assert.ok(mount(mnt, 'size=2m'))
      const full = node = await startNode({ conf: [...OPEN_ACCESS, `persistent_dir = ${join(mnt, 'data')}`] })
      const keeper = await connect(full.mqttUrl, { clientId: 'keeper', clean: false })
      await keeper.subscribeAsync('keep/#', { qos: 1 })
      await endAll(keeper)

      fill(join(mnt, 'fill'))
      // a message for the offline keeper is journaled: the write fails and the PUBLISH is not acknowledged
      const big = await connect(full.mqttUrl, { clientId: 'big' })
      big.publish('keep/big', Buffer.alloc(100_000, 7), { qos: 1 })
      await waitFor(() => /store \S+: write failed: .*No space left on device; the store takes no more writes/.test(full.stdout), 5000, 'the write failure logged')
      await endAll(big)

      assert.equal(await connackCode(full.mqttUrl, { clientId: 'p311', clean: false }), 3)
      assert.equal(await connackCode(full.mqttUrl, { clientId: 'p5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 60 } }), 0x88)
      assert.match(full.stdout, /persistent session refused: the store takes no writes since one failed/)

      const sub = await connect(full.mqttUrl, { clientId: 'clean-sub' })
      const got = collect(sub)
      await sub.subscribeAsync('live', { qos: 1 })
      const pub = await connect(full.mqttUrl, { clientId: 'clean-pub' })
      await pub.publishAsync('live', 'still here', { qos: 1 })
      await waitFor(() => got.some(m => m.payload === 'still here'), 5000, 'a message between clean sessions')
      await endAll(sub, pub)
      assert.equal((full.stdout.match(/write failed/g) ?? []).length, 1, 'one error line')
      assert.doesNotMatch(full.stdout + full.stderr, /^\s+at /m, 'no stack trace')

      rmSync(join(mnt, 'fill'))
      assert.equal(await full.stop(), 0)
      const again = node = await restartNode(full)
      const back = await connect(again.mqttUrl, { clientId: 'keeper', clean: false })
      const kept = collect(back)
      const pub2 = await connect(again.mqttUrl)
      await pub2.publishAsync('keep/after', 'after restart', { qos: 1 })
      await waitFor(() => kept.some(m => m.payload === 'after restart'), 5000, "the keeper's subscription, stored before the disk filled up")
      await endAll(back, pub2)
    } finally {
      await node?.stop()
      node?.cleanup()
      unmount(mnt)
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a full disk that gets room again: persistent sessions refused, /health and store_unwritable say so, then accepted again without a restart and kept across one', async () => {
    const dir = tempDir()
    const mnt = join(dir, 'small')
    let node: TestNode | undefined
    try {
      assert.ok(mount(mnt, 'size=2m'))
      const store = join(mnt, 'data', 'store', 'default')
      const full = node = await startNode({ conf: [...OPEN_ACCESS, `persistent_dir = ${join(mnt, 'data')}`, 'listener.http.default = 127.0.0.1:0'] })
      const http = full.port('http.default')
      const unwritable = async (): Promise<number> => (await scrape(http)).value(`vernemq_store_unwritable{node="${full.nodename}"}`)
      assert.equal(await unwritable(), 0)
      const keeper = await connect(full.mqttUrl, { clientId: 'keeper', clean: false })
      await keeper.subscribeAsync('keep/#', { qos: 1 })
      await endAll(keeper)

      const live = await connect(full.mqttUrl, { clientId: 'live', clean: false })
      fill(join(mnt, 'fill'))
      const big = await connect(full.mqttUrl, { clientId: 'big' })
      big.publish('keep/big', Buffer.alloc(100_000, 7), { qos: 1 })
      await waitFor(() => /write failed/.test(full.stdout), 5000, 'the write failure logged')
      await endAll(big)
      const failure = /store (\S+): write failed: (.*No space left on device); the store takes no more writes and new persistent sessions are refused until a test write succeeds \(tried every 5 s\) mountpoint=\n/.exec(full.stdout)
      assert.ok(failure !== null, full.stdout)
      assert.equal(failure[1], store)

      assert.equal(await connackCode(full.mqttUrl, { clientId: 'p311', clean: false }), 3)
      assert.equal(await connackCode(full.mqttUrl, { clientId: 'p5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 600 } }), 0x88)
      // a SUBSCRIBE now: aedes closes the connection as the store refuses it, the session keeps the
      // subscription in memory, and it is written once the store takes writes again
      await assert.rejects(live.subscribeAsync('later/#', { qos: 1 }), /Connection closed/)
      assert.deepEqual(await get(http, '/health'), {
        status: 503,
        body: JSON.stringify({ status: 'DOWN', reasons: [`Stores take no writes: [${store}: ${failure[2]}]`] })
      })
      assert.equal(await unwritable(), 1)

      rmSync(join(mnt, 'fill'))
      await waitFor(() => /a test write succeeded/.test(full.stdout), 15000, 'the store taking writes again')
      assert.match(full.stdout, new RegExp(`store ${store}: a test write succeeded; the store takes writes and new persistent sessions again \\(records brought in line with memory: 1\\) mountpoint=\n`))
      assert.deepEqual(await get(http, '/health'), { status: 200, body: '{"status":"OK"}' })
      assert.equal(await unwritable(), 0)

      const p311 = await connectPresent(full.mqttUrl, { clientId: 'p311', clean: false })
      assert.equal(p311.present, false)
      await p311.client.subscribeAsync('after/#', { qos: 1 })
      const p5 = await connectPresent(full.mqttUrl, { clientId: 'p5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 600 } })
      assert.equal(p5.present, false)
      await endAll(p311.client, p5.client)
      const pub = await connect(full.mqttUrl, { clientId: 'pub' })
      await pub.publishAsync('after/queued', 'queued after the disk had room', { qos: 1 })
      await endAll(pub)
      assert.equal((full.stdout.match(/write failed/g) ?? []).length, 1, 'one error line')

      // what was written after the recovery is on disk: a restart finds it
      assert.equal(await full.stop(), 0)
      const again = node = await restartNode(full)
      const back = await connectPresent(again.mqttUrl, { clientId: 'p311', clean: false })
      assert.equal(back.present, true)
      const got = collect(back.client)
      await waitFor(() => got.length === 1, 5000, 'the message queued after the disk had room')
      assert.deepEqual(got, [{ topic: 'after/queued', payload: 'queued after the disk had room', qos: 1, retain: false }])
      const p5Back = await connectPresent(again.mqttUrl, { clientId: 'p5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 600 } })
      assert.equal(p5Back.present, true)
      const keeperBack = await connectPresent(again.mqttUrl, { clientId: 'keeper', clean: false })
      assert.equal(keeperBack.present, true)
      const liveBack = await connectPresent(again.mqttUrl, { clientId: 'live', clean: false })
      assert.equal(liveBack.present, true)
      const later = collect(liveBack.client)
      const pub2 = await connect(again.mqttUrl, { clientId: 'pub2' })
      await pub2.publishAsync('later/x', 'to the subscription made while the disk was full', { qos: 1 })
      await waitFor(() => later.length === 1, 5000, 'the subscription made while the disk was full')
      assert.deepEqual(later, [{ topic: 'later/x', payload: 'to the subscription made while the disk was full', qos: 1, retain: false }])
      await endAll(back.client, p5Back.client, keeperBack.client, liveBack.client, pub2)
    } finally {
      await node?.stop()
      node?.cleanup()
      unmount(mnt)
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it('a background write LevelDB failed (a table file the full disk did not take): writes again once there is room, without a restart, every acknowledged message kept', async () => {
    const dir = tempDir()
    const mnt = join(dir, 'small')
    let node: TestNode | undefined
    try {
      assert.ok(mount(mnt, 'size=12m'))
      const store = join(mnt, 'data', 'store', 'default')
      const full = node = await startNode({ conf: [...OPEN_ACCESS, `persistent_dir = ${join(mnt, 'data')}`] })
      const keeper = await connect(full.mqttUrl, { clientId: 'keeper', clean: false })
      await keeper.subscribeAsync('bg/#', { qos: 1 })
      await endAll(keeper)
      // room for LevelDB's log to reach its 4 MB memtable, not for the table file that flushes it
      fillLeaving(join(mnt, 'fill'), 5.5 * 1024 * 1024)
      const pub = await connect(full.mqttUrl, { clientId: 'pub' })
      const acked: number[] = []
      for (let i = 0; i < 200 && !/write failed/.test(full.stdout); i++) {
        // from 3.5 MB on, a pause after each message: the flush of the full memtable fails
        // in the background before the next message reaches the new log (which would fail first)
        if (i >= 56) await new Promise(resolve => setTimeout(resolve, 250))
        const payload = Buffer.concat([Buffer.from(`${i}:`), randomBytes(64 * 1024)]) // random: LevelDB compresses tables
        const answered = await Promise.race([pub.publishAsync('bg/m', payload, { qos: 1 }).then(() => true), new Promise<boolean>(resolve => setTimeout(resolve, 3000, false))])
        if (!answered) break
        acked.push(i)
      }
      await waitFor(() => /write failed/.test(full.stdout), 5000, 'the write failure logged')
      assert.match(full.stdout, new RegExp(`store ${store}: write failed: IO error: ${store}/\\d+\\.ldb: No space left on device;`))
      pub.end(true)

      rmSync(join(mnt, 'fill'))
      await waitFor(() => /a test write succeeded/.test(full.stdout), 15000, 'the store taking writes again')
      const pub2 = await connect(full.mqttUrl, { clientId: 'pub2' })
      await pub2.publishAsync('bg/m', 'after:the disk had room', { qos: 1 })
      await endAll(pub2)
      const back = await connectPresent(full.mqttUrl, { clientId: 'keeper', clean: false })
      assert.equal(back.present, true)
      const got = collect(back.client)
      const seen = (): string[] => got.map(m => m.payload.split(':')[0])
      await waitFor(() => seen().includes('after'), 10000, 'the message published after the recovery')
      for (const i of acked) assert.ok(seen().includes(String(i)), `acknowledged message ${i} delivered (got ${seen().join(',')})`)
      assert.ok(acked.length >= 40, `${acked.length} messages acknowledged before the failure`)
      await endAll(back.client)
    } finally {
      await node?.stop()
      node?.cleanup()
      unmount(mnt)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
