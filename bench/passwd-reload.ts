// Loads a password file of N users (default 100,000) into the vmq_passwd plugin
// and reports how long it took and the longest stall of the event loop meanwhile.
// Run: npm run build && node dist/bench/passwd-reload.js [users] [rounds]
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { PasswdPlugin } from '../src/broker/auth/passwd-plugin.js'
import { hashPassword } from '../src/passwd/hash.js'

export interface ReloadMeasurement {
  users: number
  bytes: number
  loadMs: number
  /** longest gap between two ticks of a 1 ms interval timer during the load */
  maxTimerGapMs: number
  /** perf_hooks.monitorEventLoopDelay maximum (resolution 1 ms) */
  maxLoopDelayMs: number
  /** the same timer gap measured for as long with nothing to do: the machine's own noise */
  idleMaxTimerGapMs: number
}

/** Text of a password file with `users` users; every 10th one is a mosquitto $7$ line. */
export function passwordFileText (users: number): string {
  const pbkdf2 = '$7$101$AAECAwQFBgcICQoL$Xr99N9ym9ys8TWxis5ajETJq6EVYzmc6nb8t3pUYnPBbCAbICS4xejTltonXWCtJNBvA+By+TXUqU6qCblO00w=='
  const lines = ['# generated for the reload benchmark']
  for (let i = 0; i < users; i++) lines.push(`user${i}:${i % 10 === 0 ? pbkdf2 : hashPassword(`pw${i}`)}`)
  return lines.join('\n') + '\n'
}

/** Runs `work` while a 1 ms interval timer and monitorEventLoopDelay watch the event loop. */
export async function watchEventLoop (work: () => Promise<void>): Promise<{ ms: number, maxTimerGapMs: number, maxLoopDelayMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  let last = performance.now()
  let maxGap = 0
  const ticker = setInterval(() => {
    const now = performance.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
  }, 1)
  histogram.enable()
  await new Promise(resolve => setTimeout(resolve, 20))
  last = performance.now()
  maxGap = 0
  histogram.reset()
  const started = performance.now()
  await work()
  const ms = performance.now() - started
  histogram.disable()
  clearInterval(ticker)
  return { ms, maxTimerGapMs: Math.max(maxGap, performance.now() - last), maxLoopDelayMs: histogram.max / 1e6 }
}

export async function measureReload (file: string, users: number, bytes: number): Promise<ReloadMeasurement> {
  const plugin = new PasswdPlugin({ file, reloadIntervalSeconds: 0, log: () => {} })
  const load = await watchEventLoop(async () => await plugin.start())
  plugin.close()
  if (plugin.userCount !== users) throw new Error(`loaded ${plugin.userCount} users, expected ${users}`)
  const idle = await watchEventLoop(async () => await new Promise(resolve => setTimeout(resolve, load.ms)))
  return { users, bytes, loadMs: load.ms, maxTimerGapMs: load.maxTimerGapMs, maxLoopDelayMs: load.maxLoopDelayMs, idleMaxTimerGapMs: idle.maxTimerGapMs }
}

async function main (): Promise<void> {
  const users = Number(process.argv[2] ?? 100_000)
  const rounds = Number(process.argv[3] ?? 5)
  const dir = await mkdtemp(join(tmpdir(), 'vmq-passwd-bench-'))
  try {
    const file = join(dir, 'vmq.passwd')
    const text = passwordFileText(users)
    await writeFile(file, text)
    for (let round = 0; round < rounds; round++) {
      const m = await measureReload(file, users, Buffer.byteLength(text))
      console.log(JSON.stringify({ bench: 'passwd-reload', round, ...m, loadMs: round2(m.loadMs), maxTimerGapMs: round2(m.maxTimerGapMs), maxLoopDelayMs: round2(m.maxLoopDelayMs), idleMaxTimerGapMs: round2(m.idleMaxTimerGapMs) }))
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function round2 (n: number): number {
  return Math.round(n * 100) / 100
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
