// What one run holds (brokers, load workers, a temp directory) and the clean-up that
// always follows it, plus the small timing helpers every scenario uses.
import { mkdtempSync, mkdirSync } from 'node:fs'
import { scratchDir } from '../proc/children.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import hdr from 'hdr-histogram-js'
import { launchPeer, type Broker, type PeerName } from '../peers/launch.js'
import { Worker, sumStats } from '../load/pool.js'
import { sampleProcess, cpuShare, machineBusySeconds, machineStealSeconds, nowSeconds, type ProcSample } from '../proc/stat.js'
import type { Stats, WindowResult } from '../load/protocol.js'
import { saturatedSide, type Latency, type RunParams, type RunResult } from '../report/result.js'

export interface Placement { brokerCore?: number, generatorCore?: number }

export interface SessionOptions extends Placement {
  peer: PeerName
  params: RunParams
  repo: string
  /** a short tag unique to this run, used in client ids and topics */
  tag: string
}

export type Outcome = Pick<RunResult, 'metrics' | 'latency_us' | 'cpu' | 'broker_rss_kb' | 'note' | 'skipped'>

export class Session {
  readonly brokers: Broker[] = []
  private readonly workers: Worker[] = []
  private readonly dir = mkdtempSync(join(tmpdir(), 'vmq-bench-'))
  private readonly scratch = scratchDir(this.dir)

  constructor (readonly o: SessionOptions) {}

  get params (): RunParams { return this.o.params }

  async launch ({ nodename, joinTo, core }: { nodename?: string, joinTo?: Broker, core?: number } = {}): Promise<Broker> {
    const dir = join(this.dir, `broker${this.brokers.length}`)
    mkdirSync(dir)
    const broker = await launchPeer(this.o.peer, {
      core: core ?? this.o.brokerCore,
      repo: this.o.repo,
      dir,
      readyTimeoutMs: this.o.params.smoke ? 15_000 : 30_000,
      nodename,
      join: joinTo
    })
    this.brokers.push(broker)
    return broker
  }

  worker (name: string): Worker {
    const worker = Worker.spawn(name, this.o.generatorCore)
    this.workers.push(worker)
    return worker
  }

  /** The brokers' CPU and memory now; the last entry is the whole machine's busy time. */
  sampleBrokers (): ProcSample[] {
    return [...this.brokers.map(b => sampleProcess(b.pid)), { cpuSeconds: machineBusySeconds(), stealSeconds: machineStealSeconds(), rssKb: 0, at: nowSeconds() }]
  }

  async close (): Promise<void> {
    await Promise.allSettled(this.workers.map(async w => await w.shutdown()))
    await Promise.allSettled(this.brokers.map(async b => await b.stop()))
    this.scratch.done()
  }

  /** What the brokers logged last, and how any of them ended early, for an error message. */
  brokerLog (): string {
    const ended = this.brokers.filter(b => b.exit() !== null).map(b => `${b.peer} ${b.nodename ?? ''} ended during the run (${String(b.exit())})`.replace('  ', ' '))
    return [...ended, ...this.brokers.map(b => b.logTail()).filter(t => t !== '')].join(' | ')
  }
}

/** CPU shares over a phase: the busiest broker process, all load workers together, and the rest. */
export function cpuOver (brokersFrom: ProcSample[], brokersTo: ProcSample[], loadFrom: Stats[], loadTo: Stats[]): NonNullable<RunResult['cpu']> {
  const shares = brokersFrom.map((s, i) => cpuShare(s, brokersTo[i]))
  const machine = shares.pop() ?? 0
  const [first, last] = [brokersFrom[brokersFrom.length - 1], brokersTo[brokersTo.length - 1]]
  const steal = last.at > first.at ? ((last.stealSeconds ?? 0) - (first.stealSeconds ?? 0)) / (last.at - first.at) : 0
  const brokersTotal = shares.reduce((a, b) => a + b, 0)
  const broker = Math.max(0, ...shares)
  const from = sumStats(loadFrom)
  const to = sumStats(loadTo)
  const wall = Math.max(...loadTo.map(s => s.at)) - Math.min(...loadFrom.map(s => s.at))
  const generator = wall > 0 ? (to.cpuMicros - from.cpuMicros) / 1e6 / wall : 0
  const other = Math.max(0, machine - brokersTotal - generator - steal)
  return { broker: round2(broker), generator: round2(generator), other: round2(other), steal: round2(steal), saturated: saturatedSide(broker, generator), brokers_total: round2(brokersTotal) }
}

export function mergeLatency (windows: WindowResult[]): Latency | undefined {
  const total = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  for (const w of windows) total.add(hdr.decodeFromCompressedBase64(w.histogram))
  if (total.totalCount === 0) return undefined
  return {
    p50: total.getValueAtPercentile(50),
    p90: total.getValueAtPercentile(90),
    p99: total.getValueAtPercentile(99),
    max: total.maxValue,
    count: total.totalCount
  }
}

/** Waits until `done()` is true, polling every `everyMs`, for at most `timeoutMs`; returns whether it became true. */
export async function waitFor (done: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = nowSeconds() + timeoutMs / 1000
  while (true) {
    if (await done()) return true
    if (nowSeconds() >= deadline) return false
    await sleep(everyMs)
  }
}

/** A timed phase of the benchmark (warm-up, measured window): waiting is the point here. */
export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export function round2 (x: number): number {
  return Math.round(x * 100) / 100
}
