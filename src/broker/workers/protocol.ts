// `workers > 1`: a primary process owns the MQTT ports and hands each accepted
// connection to one worker, round robin; every worker is a full node, and the
// workers form a cluster (the cluster routes messages between them). These are
// the messages between the primary and its workers.
import type { ListenerInfo } from '../listeners/types.js'

export const WORKER_INDEX_ENV = 'VMQ_WORKER_INDEX'
export const WORKER_COUNT_ENV = 'VMQ_WORKER_COUNT'
/** cluster address of worker 0, for the others to join */
export const WORKER_DISCOVERY_ENV = 'VMQ_WORKER_DISCOVERY'
/** JSON: listener key (tcp.default) -> port the primary bound */
export const WORKER_PORTS_ENV = 'VMQ_WORKER_PORTS'

export type ToPrimary =
  | { type: 'ready', name: string, listeners: ListenerInfo[], clusterAddress: string }
  | { type: 'failed', message: string }

export type ToWorker =
  | { type: 'socket', listener: string }
  | { type: 'stop' }

/** The node name of worker `index`: VerneMQ@host, VerneMQ-w1@host, ... */
export function workerName (nodename: string, index: number): string {
  if (index === 0) return nodename
  const at = nodename.indexOf('@')
  return at < 0 ? `${nodename}-w${index}` : `${nodename.slice(0, at)}-w${index}${nodename.slice(at)}`
}

/** The other workers of this machine's node, when this process is one of several workers. */
export function siblingNames (nodename: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const index = Number(env[WORKER_INDEX_ENV])
  const count = Number(env[WORKER_COUNT_ENV])
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 2) return []
  const base = index === 0 ? nodename : nodename.replace(`-w${index}@`, '@').replace(new RegExp(`-w${index}$`), '')
  return Array.from({ length: count }, (_, i) => workerName(base, i)).filter(name => name !== nodename)
}
