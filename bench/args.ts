// Command line of the bench runner: `<scenario|all|report> [options]`, with per-scenario defaults.
import { parseArgs } from 'node:util'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { PEERS, type PeerName } from './peers/launch.js'
import { SCENARIOS, type RunParams, type ScenarioName } from './report/result.js'

export const BENCH_REPO = fileURLToPath(new URL('../../', import.meta.url))

export const USAGE = `usage: npm run bench -- <scenario[,scenario...]|all|report> [options]
scenarios: ${SCENARIOS.join(', ')}; all = every scenario; report [file.jsonl...] = print the table of saved results
options:
  --peers mosquitto,mosquitto-persist,aedes,vmq,vmq-secure,vmq-base,vmq-workers,vmq-nometrics   brokers to compare (default: mosquitto,
                        aedes, vmq, vmq-secure; with --base, vmq-base too; vmq-workers = workers = 2 on both cores;
                        vmq-nometrics = vmq without its per-packet metric counts; mosquitto-persist =
                        mosquitto with persistence true)
  --qos 0|1|0,1         QoS of the messages (default per scenario: 0,1; persistent: 1)
  --protocol 4|5|4,5    MQTT version of every client: 4 (or 3.1.1) = MQTT 3.1.1, 5 = MQTT 5 (default 4);
                        4,5 runs each case with both; MQTT 5 rows are labelled v5 in the table
  --payload N           payload bytes (default 64)
  --publishers N        publishers (pairs: number of pairs)
  --subscribers N       subscribers (persistent: offline sessions)
  --duration S          measured seconds per run (default 10)
  --warmup S            seconds of load before the window (default 1)
  --rounds N            runs per peer, alternating peers (default 2)
  --rate N              total msg/s of all publishers, 0 = as fast as possible (default: pairs 5000, else 0)
  --connections N       storm: connections to open (default 10000)
  --concurrency N       storm: connections being opened at once (default 64)
  --idle S              storm: also weigh the idle connections after S more seconds (default 0 = not), when
                        V8 has collected what the connects left behind (its memory reducer runs some 30 s after a burst)
  --messages N          persistent: messages published to the offline sessions (default 1000)
  --inflight N          QoS 1 messages a publisher may have unacknowledged (default 1000)
  --window N            messages under way per subscriber before publishers wait, 0 = no limit (default 500,
                        below the 1000-message queues of mosquitto and VerneMQ, which drop beyond them)
  --drain S             longest wait for the last messages after publishing stops (default 10)
  --repo DIR            vmq-ts checkout whose bin/run.js starts vmq (default: this one)
  --base DIR            vmq-ts checkout (built) run as the peer vmq-base, e.g. a worktree at the commit before a change
  --results DIR         where <date>.jsonl goes (default: bench/results of this checkout)
  --broker-core N       core the broker is pinned to (default 0)
  --generator-core N    core of the load generator (default 1)
  --wait-quiet S        before each run, wait up to S seconds for other processes to use under 0.25 core (default 0)
  --smoke               tiny counts, about a second per run
  --json-only           print only the JSON lines (no progress, no table)`

export class UsageError extends Error {}

export interface Options {
  command: 'run' | 'report'
  scenarios: ScenarioName[]
  peers: PeerName[]
  /** explicit --qos, else each scenario's default */
  qos: Array<0 | 1> | null
  /** MQTT protocol levels to run each case with (--protocol) */
  protocols: Array<4 | 5>
  overrides: Partial<RunParams>
  rounds: number
  repo: string
  /** checkout of vmq-base ('' = none) */
  base: string
  results: string
  reportFiles: string[]
  brokerCore?: number
  generatorCore?: number
  smoke: boolean
  jsonOnly: boolean
  /** seconds to wait, at most, for a quiet machine before each run */
  waitQuiet: number
}

interface Defaults { qos: Array<0 | 1>, publishers: number, subscribers: number, rate: number }

/** The goal table: what `all` runs. */
export const SCENARIO_DEFAULTS: Record<ScenarioName, Defaults> = {
  'fan-in': { qos: [0, 1], publishers: 8, subscribers: 1, rate: 0 },
  'fan-out': { qos: [0, 1], publishers: 1, subscribers: 16, rate: 0 },
  pairs: { qos: [0, 1], publishers: 10, subscribers: 10, rate: 5000 },
  storm: { qos: [0], publishers: 0, subscribers: 0, rate: 0 },
  'cross-node': { qos: [0, 1], publishers: 1, subscribers: 16, rate: 0 },
  'cluster-fan-out': { qos: [0, 1], publishers: 1, subscribers: 16, rate: 0 },
  persistent: { qos: [1], publishers: 1, subscribers: 100, rate: 0 }
}

const SMOKE_DEFAULTS: Record<ScenarioName, Partial<RunParams>> = {
  'fan-in': { publishers: 2, subscribers: 1 },
  'fan-out': { publishers: 1, subscribers: 4 },
  pairs: { publishers: 4, subscribers: 4, rate: 1000 },
  storm: { connections: 200 },
  'cross-node': { publishers: 1, subscribers: 4 },
  'cluster-fan-out': { publishers: 1, subscribers: 4 },
  persistent: { subscribers: 10, messages: 100 }
}

const NUMBER_FLAGS = ['payload', 'publishers', 'subscribers', 'duration', 'warmup', 'rounds', 'rate', 'connections', 'concurrency', 'idle', 'messages', 'inflight', 'window', 'drain', 'broker-core', 'generator-core', 'wait-quiet'] as const

export function parseOptions (argv: string[]): Options {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        peers: { type: 'string' },
        qos: { type: 'string' },
        protocol: { type: 'string' },
        repo: { type: 'string' },
        base: { type: 'string' },
        results: { type: 'string' },
        smoke: { type: 'boolean', default: false },
        'json-only': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...Object.fromEntries(NUMBER_FLAGS.map(f => [f, { type: 'string' as const }]))
      }
    })
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`)
  }
  const v = parsed.values as Record<string, string | boolean | undefined>
  if (v.help === true) throw new UsageError(USAGE)
  const [first, ...rest] = parsed.positionals
  if (first === undefined) throw new UsageError(`missing scenario\n${USAGE}`)
  const num = (flag: typeof NUMBER_FLAGS[number], min: number): number | undefined => {
    const raw = v[flag]
    if (raw === undefined) return undefined
    const n = Number(raw)
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`--${flag} ${String(raw)}: expected a number >= ${min}`)
    return n
  }
  const integer = (flag: typeof NUMBER_FLAGS[number], min: number): number | undefined => {
    const n = num(flag, min)
    if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`--${flag} ${n}: expected a whole number`)
    return n
  }
  const overrides: Partial<RunParams> = {}
  const set = <K extends keyof RunParams>(key: K, value: RunParams[K] | undefined): void => { if (value !== undefined) overrides[key] = value }
  set('payload', integer('payload', 0))
  set('publishers', integer('publishers', 1))
  set('subscribers', integer('subscribers', 1))
  set('duration', num('duration', 0.1))
  set('warmup', num('warmup', 0))
  set('rate', num('rate', 0))
  set('connections', integer('connections', 1))
  set('concurrency', integer('concurrency', 1))
  set('idle', num('idle', 0))
  set('messages', integer('messages', 1))
  set('maxInflight', integer('inflight', 1))
  set('window', integer('window', 0))
  set('drain', num('drain', 0.1))
  const smoke = v.smoke === true
  const twoCores = cpus().length >= 2
  return {
    command: first === 'report' ? 'report' : 'run',
    scenarios: first === 'report' ? [] : scenarioList(first, rest),
    peers: peerList(typeof v.peers === 'string' ? v.peers : undefined, typeof v.base === 'string'),
    qos: typeof v.qos === 'string' ? qosList(v.qos) : null,
    protocols: typeof v.protocol === 'string' ? protocolList(v.protocol) : [4],
    overrides,
    rounds: integer('rounds', 1) ?? (smoke ? 1 : 2),
    repo: typeof v.repo === 'string' ? v.repo : BENCH_REPO,
    base: typeof v.base === 'string' ? v.base : '',
    results: typeof v.results === 'string' ? v.results : join(BENCH_REPO, 'bench', 'results'),
    reportFiles: first === 'report' ? rest : [],
    brokerCore: integer('broker-core', 0) ?? (twoCores ? 0 : undefined),
    generatorCore: integer('generator-core', 0) ?? (twoCores ? 1 : undefined),
    smoke,
    jsonOnly: v['json-only'] === true,
    waitQuiet: num('wait-quiet', 0) ?? 0
  }
}

/** The parameters of one scenario: defaults, then smoke sizes, then what the command line says. */
export function paramsFor (scenario: ScenarioName, qos: 0 | 1, o: Options, protocol: 4 | 5 = o.protocols[0]): RunParams {
  const d = SCENARIO_DEFAULTS[scenario]
  const base: RunParams = {
    qos,
    protocol,
    payload: 64,
    publishers: d.publishers,
    subscribers: d.subscribers,
    duration: 10,
    warmup: 1,
    rate: d.rate,
    connections: 10_000,
    concurrency: 64,
    idle: 0,
    messages: 1000,
    maxInflight: 1000,
    window: 500,
    drain: 10,
    smoke: o.smoke
  }
  const smoke: Partial<RunParams> = o.smoke ? { duration: 1, warmup: 0.2, drain: 2, ...SMOKE_DEFAULTS[scenario] } : {}
  return { ...base, ...smoke, ...o.overrides, qos, protocol }
}

export function qosLevels (scenario: ScenarioName, o: Options): Array<0 | 1> {
  if (scenario === 'storm' || scenario === 'persistent') return SCENARIO_DEFAULTS[scenario].qos
  return o.qos ?? SCENARIO_DEFAULTS[scenario].qos
}

function scenarioList (first: string, rest: string[]): ScenarioName[] {
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}": give one scenario, a comma-separated list, or all\n${USAGE}`)
  if (first === 'all') return [...SCENARIOS]
  const list = first.split(',').map(s => s.trim())
  for (const name of list) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new UsageError(`unknown scenario "${name}": expected one of ${SCENARIOS.join(', ')}, all or report`)
  }
  return [...new Set(list)] as ScenarioName[]
}

function peerList (raw: string | undefined, withBase: boolean): PeerName[] {
  if (raw === undefined) return PEERS.filter(p => (withBase || p !== 'vmq-base') && p !== 'vmq-workers' && p !== 'vmq-nometrics' && p !== 'mosquitto-persist')
  const list = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const p of list) {
    if (!(PEERS as readonly string[]).includes(p)) throw new UsageError(`--peers: unknown peer "${p}": expected some of ${PEERS.join(', ')}`)
  }
  if (list.length === 0) throw new UsageError('--peers: name at least one peer')
  return list as PeerName[]
}

function qosList (raw: string): Array<0 | 1> {
  const list = raw.split(',').map(s => s.trim())
  for (const q of list) {
    if (q !== '0' && q !== '1') throw new UsageError(`--qos ${raw}: expected 0, 1 or 0,1`)
  }
  return [...new Set(list.map(q => Number(q) as 0 | 1))]
}

const PROTOCOL_SPELLINGS: Record<string, 4 | 5> = { 4: 4, '3.1.1': 4, 5: 5, '5.0': 5 }

function protocolList (raw: string): Array<4 | 5> {
  const list = raw.split(',').map(s => s.trim())
  for (const p of list) {
    if (!Object.hasOwn(PROTOCOL_SPELLINGS, p)) throw new UsageError(`--protocol ${raw}: expected 4 (or 3.1.1), 5, or 4,5`)
  }
  return [...new Set(list.map(p => PROTOCOL_SPELLINGS[p]))]
}

/** The checkout a vmq peer is started from. */
export function repoOf (peer: PeerName, o: Options): string {
  return peer === 'vmq-base' ? o.base : o.repo
}
