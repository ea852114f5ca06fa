// The markdown table of medians over rounds, one row per scenario/QoS/metric, with the
// ratio of each broker under test to each reference peer.
import { PEERS } from '../peers/launch.js'
import type { RunResult, ScenarioName } from './result.js'

/** optional: a row only when some run has the figure (one asked for with an option) */
interface Column { label: string, pick: (r: RunResult) => number | undefined, lowerIsBetter?: boolean, optional?: boolean }

const THROUGHPUT: Column = { label: 'msg/s delivered', pick: r => r.metrics.msg_s }
const P50: Column = { label: 'latency p50 µs', pick: r => r.latency_us?.p50, lowerIsBetter: true }
const P90: Column = { label: 'latency p90 µs', pick: r => r.latency_us?.p90, lowerIsBetter: true }
const P99: Column = { label: 'latency p99 µs', pick: r => r.latency_us?.p99, lowerIsBetter: true }
const MAX: Column = { label: 'latency max µs', pick: r => r.latency_us?.max, lowerIsBetter: true }
const CPU_PER_PUB: Column = { label: 'broker CPU µs per published msg', pick: r => r.metrics.cpu_us_per_pub, lowerIsBetter: true }

const ROWS: Record<ScenarioName, Column[]> = {
  'fan-in': [THROUGHPUT],
  'fan-out': [THROUGHPUT, CPU_PER_PUB],
  pairs: [P50, P90, P99, MAX],
  storm: [
    { label: 'connections/s', pick: r => r.metrics.conn_s },
    { label: 'KB RSS per idle connection', pick: r => r.metrics.kb_per_conn, lowerIsBetter: true },
    { label: 'KB RSS per idle connection, after --idle', pick: r => r.metrics.kb_per_conn_idle, lowerIsBetter: true, optional: true }
  ],
  'cross-node': [THROUGHPUT, P50, P99, CPU_PER_PUB],
  'cluster-fan-out': [THROUGHPUT, CPU_PER_PUB],
  persistent: [
    { label: 'msg/s queued (publisher)', pick: r => r.metrics.queue_msg_s },
    { label: 'msg/s drained (sessions)', pick: r => r.metrics.drain_msg_s }
  ]
}

const SUBJECTS = ['vmq', 'vmq-secure', 'vmq-workers']
const REFERENCES = ['mosquitto', 'mosquitto-persist', 'aedes', 'vmq-base']

export function renderTable (results: RunResult[]): string {
  const order: readonly string[] = PEERS
  const peers = unique(results.map(r => r.peer)).sort((a, b) => order.indexOf(a) - order.indexOf(b))
  const ratios = ratioPairs(peers)
  const header = ['scenario', 'metric', ...peers, ...ratios.map(([a, b]) => `${a} ÷ ${b}`)]
  const lines = [row(header), row(header.map((_, i) => i < 2 ? '---' : '---:'))]
  const cases = unique(results.map(r => caseKey(r)))
  for (const key of cases) {
    const runs = results.filter(r => caseKey(r) === key)
    const scenario = runs[0].scenario
    for (const column of ROWS[scenario]) {
      const cells = new Map<string, { value: number | undefined, text: string }>()
      for (const peer of peers) cells.set(peer, cell(runs.filter(r => r.peer === peer), column))
      if (column.optional === true && peers.every(p => cells.get(p)?.value === undefined)) continue
      const ratioCells = ratios.map(([a, b]) => ratio(cells.get(a)?.value, cells.get(b)?.value))
      lines.push(row([key, column.label, ...peers.map(p => cells.get(p)?.text ?? ''), ...ratioCells]))
    }
  }
  return lines.join('\n')
}

/**
 * The cluster scenarios next to one node of the same peer in the same results: cross-node
 * (two nodes sharing the broker core) and cluster-fan-out (a node per core) against fan-out
 * (one node, one core), same QoS and client counts.
 */
export function renderClusterTable (results: RunResult[]): string {
  const lines: string[] = []
  for (const scenario of ['cross-node', 'cluster-fan-out'] as const) {
    for (const key of unique(results.filter(r => r.scenario === scenario).map(r => `${r.peer} ${variant(r)}`))) {
      const [peer, ...rest] = key.split(' ')
      const wanted = rest.join(' ')
      const of = (s: ScenarioName): RunResult[] => results.filter(r => r.scenario === s && r.peer === peer && variant(r) === wanted)
      const cluster = of(scenario)
      const single = of('fan-out').filter(r => r.params.subscribers === cluster[0].params.subscribers && r.params.publishers === cluster[0].params.publishers)
      const [c, s] = [cell(cluster, THROUGHPUT), cell(single, THROUGHPUT)]
      const [cc, sc] = [cell(cluster, CPU_PER_PUB), cell(single, CPU_PER_PUB)]
      if (s.value === undefined || c.value === undefined) continue
      lines.push(row([`${scenario} ${wanted}`, peer, c.text, s.text, ratio(c.value, s.value), cc.text, sc.text, ratio(cc.value, sc.value)]))
    }
  }
  if (lines.length === 0) return ''
  const header = ['scenario', 'peer', 'msg/s', 'one node (fan-out) msg/s', 'ratio', 'broker CPU µs per published msg', 'one node µs', 'ratio']
  return [row(header), row(header.map((_, i) => i < 2 ? '---' : '---:')), ...lines].join('\n')
}

/** Other processes using more than this many cores during a run make its figures doubtful. */
const NOISY_CORES = 0.25

export const LEGEND = 'Medians over rounds. ≥: the load generator, not the broker, saturated its core (the broker can go faster). ' +
  '*: messages were lost (see `lost` in the JSON lines). ~: other processes on the machine, or the hypervisor (steal), took more than ' + String(NOISY_CORES) + ' core during most runs (noisy). ' +
  'Ratios are subject ÷ peer: above 1 is better for rates, below 1 is better for latency and memory.'

/** The row label of a run; MQTT 5 runs get ` v5`, runs without a protocol (older results) are 3.1.1. */
function caseKey (r: RunResult): string {
  return r.scenario === 'storm' ? `storm ${r.params.connections}${version(r)}` : `${r.scenario} ${variant(r)}`
}

/** QoS and protocol of a message run: `QoS1`, `QoS1 v5`. */
function variant (r: RunResult): string {
  return `QoS${r.params.qos}${version(r)}`
}

function version (r: RunResult): string {
  return r.params.protocol === 5 ? ' v5' : ''
}

function cell (runs: RunResult[], column: Column): { value: number | undefined, text: string } {
  const skipped = runs.find(r => r.skipped !== undefined)
  const values = runs.filter(r => r.error === undefined && r.skipped === undefined).map(column.pick).filter((v): v is number => v !== undefined)
  if (values.length === 0) {
    if (skipped !== undefined) return { value: undefined, text: 'n/a' }
    return { value: undefined, text: runs.some(r => r.error !== undefined) ? 'failed' : '' }
  }
  const value = median(values)
  const ok = runs.filter(r => r.error === undefined && r.skipped === undefined)
  const generatorBound = !column.lowerIsBetter && majority(ok, r => r.cpu?.saturated === 'generator')
  const lost = ok.some(r => (r.metrics.lost ?? 0) > 0)
  const noisy = majority(ok, r => (r.cpu?.other ?? 0) + (r.cpu?.steal ?? 0) > NOISY_CORES)
  return { value, text: `${generatorBound ? '≥' : ''}${format(value)}${lost ? '*' : ''}${noisy ? '~' : ''}` }
}

function ratio (a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return ''
  return `${(a / b).toFixed(2)}×`
}

function ratioPairs (peers: string[]): Array<[string, string]> {
  const subjects = peers.filter(p => SUBJECTS.includes(p))
  const references = peers.filter(p => REFERENCES.includes(p))
  if (subjects.length === 0) return references.length === 2 ? [['aedes', 'mosquitto']] : []
  return subjects.flatMap(s => references.map(r => [s, r] as [string, string]))
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function majority<T> (list: T[], test: (t: T) => boolean): boolean {
  return list.length > 0 && list.filter(test).length * 2 > list.length
}

function format (value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US')
  if (Math.abs(value) >= 10) return value.toFixed(1).replace(/\.0$/, '')
  return value.toFixed(2).replace(/\.?0+$/, '')
}

function unique (list: string[]): string[] {
  return [...new Set(list)]
}

function row (cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}
