// Store throughput: plain aedes on 127.0.0.1, QoS 1 publisher -> persistent
// (clean=false) QoS 1 subscriber, aedes' memory persistence vs our LevelDB
// store; then the time to reopen a store holding many offline messages and
// the process RSS after it. Prints one JSON line per result, then a summary.
//
//   node dist/bench/store-throughput.js [--messages 20000] [--window 200] [--offline 100000]
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { openLevelPersistence, type LevelPersistence } from '../src/broker/store/level-persistence.js'

const REOPEN_FLAG = '--reopen-child'
const PAYLOAD = Buffer.alloc(64, 'x')
const CLIENTS_WITH_QUEUES = 100
const DEADLINE_MS = 300_000

interface Result { [field: string]: string | number }

function emit (result: Result): void {
  process.stdout.write(JSON.stringify(result) + '\n')
}

async function throughput (kind: 'memory' | 'leveldb', messages: number, window: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'vmq-bench-store-'))
  const store = kind === 'leveldb' ? await openLevelPersistence({ path: dir, maxOfflineMessages: -1 }) : undefined
  const broker = await Aedes.createBroker({ persistence: store })
  const server = createServer(broker.handle)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    const sub = await mqtt.connectAsync(url, { clientId: 'bench-sub', clean: false, reconnectPeriod: 0 })
    await sub.subscribeAsync('bench/t', { qos: 1 })
    const pub = await mqtt.connectAsync(url, { clientId: 'bench-pub', clean: true, reconnectPeriod: 0 })
    let received = 0
    const allReceived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: only ${received} of ${messages} messages in ${DEADLINE_MS} ms`)), DEADLINE_MS)
      sub.on('message', () => {
        if (++received === messages) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    const started = performance.now()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < messages) {
        next++
        await pub.publishAsync('bench/t', PAYLOAD, { qos: 1 })
      }
    }
    await Promise.all(Array.from({ length: window }, worker))
    await allReceived
    const seconds = (performance.now() - started) / 1000
    await Promise.all([sub.endAsync(), pub.endAsync()])
    return { bench: 'store-throughput', persistence: kind, messages, window, seconds: round(seconds), msgsPerSec: Math.round(messages / seconds) }
  } finally {
    await new Promise<void>(resolve => broker.close(() => resolve()))
    await new Promise<void>(resolve => server.close(() => resolve()))
    await store?.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function fillOfflineStore (dir: string, total: number): Promise<number> {
  const store = await openLevelPersistence({ path: dir, maxOfflineMessages: -1 })
  await store.setup({ id: 'bench-node' })
  const started = performance.now()
  for (let i = 0; i < total; i++) {
    await store.outgoingEnqueue({ clientId: `offline-${i % CLIENTS_WITH_QUEUES}` }, {
      cmd: 'publish', topic: 'bench/offline', payload: PAYLOAD, qos: 1, retain: false, dup: false,
      brokerId: 'bench-node', brokerCounter: i + 1
    })
    // queueing is write-behind: let batches go out as they would under socket traffic
    if (i % 1000 === 999) await store.flushed()
  }
  await store.flushed()
  const seconds = (performance.now() - started) / 1000
  await store.destroy()
  return seconds
}

/** Runs in a fresh process so its RSS is the reopened store's, not the writer's garbage. */
async function reopenChild (dir: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss
  const started = performance.now()
  const store: LevelPersistence = await openLevelPersistence({ path: dir })
  const seconds = (performance.now() - started) / 1000
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const stats = store.stats()
  emit({
    bench: 'store-reopen',
    queuedMessages: stats.queuedMessages,
    clients: stats.clientsWithQueue,
    seconds: round(seconds),
    rssBeforeMiB: mib(rssBefore),
    rssAfterMiB: mib(process.memoryUsage().rss),
    heapUsedMiB: mib(process.memoryUsage().heapUsed),
    heapTotalMiB: mib(process.memoryUsage().heapTotal)
  })
  await store.destroy()
}

async function reopen (total: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'vmq-bench-reopen-'))
  try {
    const fillSeconds = await fillOfflineStore(dir, total)
    emit({ bench: 'store-fill', queuedMessages: total, clients: CLIENTS_WITH_QUEUES, seconds: round(fillSeconds), msgsPerSec: Math.round(total / fillSeconds) })
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), REOPEN_FLAG, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const [code] = await once(child, 'exit') as [number | null]
    if (code !== 0) throw new Error(`reopen child exited with ${String(code)}`)
    const result = JSON.parse(out.trim()) as Result
    emit(result)
    return result
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function round (n: number): number {
  return Math.round(n * 1000) / 1000
}

function mib (bytes: number): number {
  return Math.round(bytes / 1024 / 1024 * 10) / 10
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '20000' },
      window: { type: 'string', default: '200' },
      offline: { type: 'string', default: '100000' }
    }
  })
  const messages = Number(values.messages)
  const window = Number(values.window)
  const offline = Number(values.offline)
  const results: Result[] = []
  for (const kind of ['memory', 'leveldb'] as const) {
    const result = await throughput(kind, messages, window)
    emit(result)
    results.push(result)
  }
  const reopened = await reopen(offline)
  process.stdout.write(
    `\nQoS 1 -> persistent subscriber, ${messages} msgs, ${window} in flight: ` +
    results.map(r => `${r.persistence} ${r.msgsPerSec} msg/s`).join(', ') +
    `\nreopen with ${reopened.queuedMessages} offline messages (${reopened.clients} clients): ` +
    `${reopened.seconds} s, RSS ${reopened.rssAfterMiB} MiB (${reopened.rssBeforeMiB} MiB before opening)\n`)
}

if (process.argv[2] === REOPEN_FLAG) {
  await reopenChild(process.argv[3])
} else {
  await main()
}
