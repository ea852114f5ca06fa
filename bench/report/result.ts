// The shape of one run's result: one JSON line in bench/results/<date>.jsonl.
import { cpus, release, totalmem } from 'node:os'

export const SCENARIOS = ['fan-in', 'fan-out', 'pairs', 'storm', 'cross-node', 'cluster-fan-out', 'persistent'] as const
export type ScenarioName = typeof SCENARIOS[number]

/** Scenarios that need two nodes of one cluster (vmq only). */
export function isClusterScenario (scenario: ScenarioName): boolean {
  return scenario === 'cross-node' || scenario === 'cluster-fan-out'
}

export interface RunParams {
  qos: 0 | 1
  /** MQTT protocol level of every client: 4 = 3.1.1, 5 = MQTT 5 (results written before this field existed: 3.1.1) */
  protocol: 4 | 5
  payload: number
  publishers: number
  subscribers: number
  /** seconds in the measured window */
  duration: number
  /** seconds of load before the window opens */
  warmup: number
  /** total msg/s of all publishers; 0 = as fast as the broker takes them */
  rate: number
  connections: number
  /** storm: connections being opened at once */
  concurrency: number
  /** storm: seconds the connections stay idle before they are weighed again (0 = not); absent in older lines */
  idle?: number
  /** messages published to the offline sessions (persistent) */
  messages: number
  /** QoS 1 messages a publisher may have unacknowledged */
  maxInflight: number
  /** messages under way per subscriber (published, not yet received) before publishers wait; 0 = no limit */
  window: number
  /** longest wait for the last messages after publishing stops, seconds */
  drain: number
  smoke: boolean
}

export interface Latency { p50: number, p90: number, p99: number, max: number, count: number }

export type Side = 'broker' | 'generator' | 'both' | 'neither'

export interface RunResult {
  date: string
  scenario: ScenarioName
  peer: string
  round: number
  params: RunParams
  version: string
  machine: Machine
  metrics: Record<string, number>
  latency_us?: Latency
  /**
   * Cores used during the measured phase by the broker, the load generator, and everything else
   * on the machine (other processes compete for the same cores); saturated = which side was at >= 90 %.
   */
  cpu?: { broker: number, generator: number, other: number, saturated: Side, brokers_total?: number, steal?: number }
  /** the broker's resident memory at the end of the run, KB */
  broker_rss_kb?: number
  /** --wait-quiet: seconds waited for a quiet machine before the run, and the cores others used at the end of the wait */
  quiet_wait?: { seconds: number, other_cores: number }
  note?: string
  skipped?: string
  error?: string
}

export interface Machine { cpu: string, cores: number, mem_gb: number, kernel: string, node: string, pinned: string }

export function describeMachine (pinned: string): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    mem_gb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    pinned
  }
}

export const SATURATED = 0.9

export function saturatedSide (broker: number, generator: number): Side {
  const b = broker >= SATURATED
  const g = generator >= SATURATED
  return b && g ? 'both' : b ? 'broker' : g ? 'generator' : 'neither'
}
