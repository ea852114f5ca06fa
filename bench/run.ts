// The bench runner: `npm run bench -- <scenario|all|report> [options]` (see USAGE in args.ts).
// Every run starts fresh broker and load-generator processes, is bounded in time, writes one
// JSON line to bench/results/<date>.jsonl; the markdown table of medians closes the output.
import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { parseOptions, paramsFor, qosLevels, repoOf, UsageError, type Options } from './args.js'
import { checkPinning, fdHardLimit, pinSelf } from './proc/children.js'
import { peerHasCluster, peerUnavailable, peerVersion, type PeerName } from './peers/launch.js'
import { describeMachine, isClusterScenario, type Machine, type RunParams, type RunResult, type ScenarioName } from './report/result.js'
import { LEGEND, renderClusterTable, renderTable } from './report/table.js'
import { runScenario } from './scenarios/index.js'
import { Session } from './scenarios/session.js'
import { machineBusySeconds, nowSeconds } from './proc/stat.js'
import { takeLock } from './proc/lock.js'

/** A run that takes longer than its expected length plus this is stopped and recorded as failed. */
const RUN_SLACK_SECONDS = 120
/** --wait-quiet: the machine counts as quiet when everything else uses less than this many cores. */
const QUIET_CORES = 0.25

interface Planned { scenario: ScenarioName, params: RunParams, peer: PeerName, round: number }

async function main (): Promise<number> {
  let options: Options
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (err) {
    if (err instanceof UsageError) {
      const help = err.message.startsWith('usage:')
      ;(help ? process.stdout : process.stderr).write(`${err.message}\n`)
      return help ? 0 : 1
    }
    throw err
  }
  if (options.command === 'report') return report(options)
  // Smoke runs measure nothing worth protecting (and the test suite runs one).
  const locked = options.smoke ? null : takeLock()
  if (locked !== null) {
    process.stderr.write(`bench: ${locked}\n`)
    return 1
  }

  for (const core of [options.brokerCore, options.generatorCore]) {
    const problem = core === undefined ? null : checkPinning(core)
    if (problem !== null) {
      process.stderr.write(`bench: ${problem}\n`)
      return 1
    }
  }
  if (options.generatorCore !== undefined) pinSelf(options.generatorCore)
  const pinned = options.brokerCore === undefined ? 'not pinned (fewer than 2 cores)' : `broker on core ${options.brokerCore}, load generator on core ${String(options.generatorCore)}`
  const machine = describeMachine(pinned)
  const versions = new Map<PeerName, string>()
  const plan = makePlan(options)
  const file = resultsFile(options.results)
  const results: RunResult[] = []
  log(options, `bench: ${plan.length} runs, about ${Math.ceil(plan.reduce((t, run) => t + estimateSeconds(run, options), 0) / 60)} minutes; ${pinned}; results in ${file}`)

  for (const [i, run] of plan.entries()) {
    const skip = skipReason(run, options)
    const repo = repoOf(run.peer, options)
    if (!versions.has(run.peer)) versions.set(run.peer, peerUnavailable(run.peer, repo) === null ? peerVersion(run.peer, repo) : 'unavailable')
    const base = { date: new Date().toISOString(), scenario: run.scenario, peer: run.peer, round: run.round, params: run.params, version: versions.get(run.peer) ?? '', machine }
    log(options, `[${i + 1}/${plan.length}] ${label(run)} ...`)
    const quiet = skip === null && options.waitQuiet > 0 ? await waitForQuiet(options.waitQuiet) : undefined
    const result: RunResult = skip !== null
      ? { ...base, metrics: {}, skipped: skip }
      : { ...base, ...await runOne(run, options), ...(quiet === undefined ? {} : { quiet_wait: quiet }) }
    results.push(result)
    appendFileSync(file, JSON.stringify(result) + '\n')
    if (options.jsonOnly) process.stdout.write(JSON.stringify(result) + '\n')
    log(options, `    ${summary(result)}`)
  }
  if (!options.jsonOnly) process.stdout.write(`\n${tables(results)}\n\n${LEGEND}\n${machineLine(machine)}\n`)
  return results.some(r => r.error !== undefined) ? 1 : 0
}

/** Why a planned run cannot happen (the peer is missing, or has no cluster for cross-node), or null. */
function skipReason (run: Planned, o: Options): string | null {
  if (isClusterScenario(run.scenario) && !peerHasCluster(run.peer)) return `${run.peer} has no cluster: ${run.scenario} runs only on vmq`
  return peerUnavailable(run.peer, repoOf(run.peer, o))
}

/** A rough length of one run on a quiet 2-core machine, for the announcement. */
function estimateSeconds (run: Planned, o: Options): number {
  if (skipReason(run, o) !== null) return 0
  const p = run.params
  switch (run.scenario) {
    case 'storm': return 4 + p.connections / 2000
    case 'persistent': return 3 + p.messages * p.subscribers / 10_000
    case 'cross-node':
    case 'cluster-fan-out': return p.warmup + p.duration + 4
    default: return p.warmup + p.duration + 2
  }
}

function makePlan (o: Options): Planned[] {
  const plan: Planned[] = []
  for (const scenario of o.scenarios) {
    for (const qos of qosLevels(scenario, o)) {
      for (const protocol of o.protocols) {
        const params = paramsFor(scenario, qos, o, protocol)
        for (let round = 1; round <= o.rounds; round++) {
          for (const peer of o.peers) plan.push({ scenario, params, peer, round })
        }
      }
    }
  }
  return plan
}

async function runOne (run: Planned, o: Options): Promise<Omit<RunResult, keyof Planned | 'date' | 'version' | 'machine'>> {
  const problem = fdProblem(run)
  if (problem !== null) return { metrics: {}, error: problem }
  const session = new Session({ peer: run.peer, params: run.params, repo: repoOf(run.peer, o), tag: `b${randomBytes(3).toString('hex')}`, brokerCore: o.brokerCore, generatorCore: o.generatorCore })
  const limitSeconds = run.params.warmup + run.params.duration + run.params.drain + (run.params.idle ?? 0) + RUN_SLACK_SECONDS
  let timer: NodeJS.Timeout | undefined
  const work = runScenario(session, run.scenario)
  work.catch(() => {}) // a run stopped by its deadline fails later, once its processes are gone
  try {
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`run did not finish within ${limitSeconds} s`)), limitSeconds * 1000)
    })
    return await Promise.race([work, deadline])
  } catch (err) {
    const log = session.brokerLog()
    return { metrics: {}, error: (err as Error).message + (log === '' || (err as Error).message.includes(log) ? '' : ` (broker log: ${log})`) }
  } finally {
    clearTimeout(timer)
    await session.close()
  }
}

/** Waits (at most `maxSeconds`) until the rest of the machine uses under QUIET_CORES; says how long it waited and how busy it was. */
async function waitForQuiet (maxSeconds: number): Promise<{ seconds: number, other_cores: number }> {
  const started = nowSeconds()
  let busy = 0
  do {
    const from = machineBusySeconds()
    const at = nowSeconds()
    await new Promise(resolve => setTimeout(resolve, 500))
    busy = (machineBusySeconds() - from) / (nowSeconds() - at)
  } while (busy >= QUIET_CORES && nowSeconds() - started < maxSeconds)
  return { seconds: Math.round((nowSeconds() - started) * 10) / 10, other_cores: Math.round(busy * 100) / 100 }
}

function fdProblem (run: Planned): string | null {
  if (run.scenario !== 'storm') return null
  const needed = run.params.connections + 200
  const limit = fdHardLimit()
  if (limit >= needed) return null
  return `storm needs about ${needed} open files per process but the hard limit (ulimit -Hn) is ${limit}: raise it (ulimit -Hn ${needed} as root, or LimitNOFILE) or pass --connections ${Math.max(1, limit - 200)}`
}

function report (o: Options): number {
  const files = o.reportFiles.length > 0 ? o.reportFiles : [resultsFile(o.results)]
  const results: RunResult[] = []
  for (const f of files) {
    if (!existsSync(f)) {
      process.stderr.write(`bench report: no such file: ${f}\n`)
      return 1
    }
    for (const [n, line] of readFileSync(f, 'utf8').split('\n').entries()) {
      if (line.trim() === '') continue
      try {
        results.push(JSON.parse(line) as RunResult)
      } catch {
        process.stderr.write(`bench report: ${f}:${n + 1}: not a JSON line, skipped\n`)
      }
    }
  }
  if (results.length === 0) {
    process.stderr.write('bench report: no results\n')
    return 1
  }
  process.stdout.write(`${tables(results)}\n\n${LEGEND}\n${machineLine(results[results.length - 1].machine)}\n`)
  return 0
}

function resultsFile (dir: string): string {
  mkdirSync(dir, { recursive: true })
  return join(dir, `${new Date().toISOString().slice(0, 10)}.jsonl`)
}

function label (run: Planned): string {
  const p = run.params
  const what = run.scenario === 'storm'
    ? `${p.connections} connections`
    : run.scenario === 'persistent'
      ? `${p.subscribers} sessions x ${p.messages} msgs`
      : `QoS${p.qos} ${p.publishers} pub / ${run.scenario === 'pairs' ? p.publishers : p.subscribers} sub${p.rate > 0 ? ` @ ${p.rate} msg/s` : ''}`
  return `${run.scenario} ${what}${p.protocol === 5 ? ', MQTT 5' : ''}, ${run.peer}, round ${run.round}`
}

function summary (r: RunResult): string {
  if (r.skipped !== undefined) return `skipped: ${r.skipped}`
  if (r.error !== undefined) return `FAILED: ${r.error}`
  const m = r.metrics
  const parts = Object.entries(m).filter(([k]) => ['msg_s', 'conn_s', 'kb_per_conn', 'kb_per_conn_idle', 'queue_msg_s', 'drain_msg_s', 'lost'].includes(k)).map(([k, v]) => `${k}=${v}`)
  if (r.latency_us !== undefined) parts.push(`p50=${r.latency_us.p50}µs p99=${r.latency_us.p99}µs`)
  if (r.cpu !== undefined) parts.push(`cpu broker=${r.cpu.broker} generator=${r.cpu.generator} other=${r.cpu.other} steal=${r.cpu.steal ?? 0} (saturated: ${r.cpu.saturated})`)
  return parts.join(' ')
}

function machineLine (m: Machine): string {
  return `Machine: ${m.cpu}, ${m.cores} cores, ${m.mem_gb} GB, Linux ${m.kernel}, Node ${m.node}; ${m.pinned}.`
}

function log (o: Options, line: string): void {
  if (!o.jsonOnly) process.stderr.write(line + '\n')
}

process.exitCode = await main()

function tables (results: RunResult[]): string {
  const cluster = renderClusterTable(results)
  return cluster === '' ? renderTable(results) : `${renderTable(results)}\n\n${cluster}`
}
