// VerneMQ's health checks (GET /health, /health/ping, /health/listeners):
// a node is healthy when all its MQTT listeners accept connections, it
// reaches every other member of its cluster, and its stores take writes.
import type { MqttListener } from '../listeners/types.js'

export interface HealthSource {
  listeners: () => readonly MqttListener[]
  /** the other cluster members and whether their link is up */
  peers: () => Array<{ name: string, running: boolean }>
  /** the durable stores (one per mountpoint) and why one takes no writes */
  stores: () => Promise<Array<{ path: string, writeFailure: string | undefined }>>
}

export interface HealthAnswer { code: number, body: Record<string, unknown> }

/** Reasons the MQTT listeners are not all accepting ([] = they are). */
export function listenerProblems (source: HealthSource): string[] {
  const down = source.listeners().filter(l => l.kind !== 'http' && l.kind !== 'https' && l.status !== 'running')
  if (down.length === 0) return []
  return [`Listeners are not ready: [${down.map(l => `${l.kind} ${l.config.host}:${l.port()} ${l.status}`).join(', ')}]`]
}

export function clusterProblems (source: HealthSource): string[] {
  const offline = source.peers().filter(p => !p.running).map(p => p.name)
  return offline.length === 0 ? [] : [`Cluster members not reachable: [${offline.join(', ')}]`]
}

/** Stores that refuse writes since one failed (they check every few seconds whether they can again). */
export async function storeProblems (source: HealthSource): Promise<string[]> {
  const failed = (await source.stores()).filter(s => s.writeFailure !== undefined)
  return failed.length === 0 ? [] : [`Stores take no writes: [${failed.map(s => `${s.path}: ${String(s.writeFailure)}`).join(', ')}]`]
}

export async function health (source: HealthSource): Promise<HealthAnswer> {
  const reasons = [...listenerProblems(source), ...clusterProblems(source), ...await storeProblems(source)]
  return reasons.length === 0 ? { code: 200, body: { status: 'OK' } } : { code: 503, body: { status: 'DOWN', reasons } }
}

export function listenersHealth (source: HealthSource): HealthAnswer {
  const reasons = listenerProblems(source)
  return reasons.length === 0 ? { code: 200, body: { status: 'OK' } } : { code: 503, body: { status: 'DOWN', reason: reasons[0] } }
}

/** What a member answered about its listeners (`listener show` rows), or why it could not. */
export interface MemberListeners {
  name: string
  rows?: Array<{ type: string, status: string, address: string, port: string }>
  problem?: string
}

/** Listener kinds that are not MQTT (the HTTP modules do not make a node unready). */
const NOT_MQTT = new Set(['http', 'https', 'vmq', 'vmqs'])

/**
 * /health/listeners_full_cluster: every MQTT listener of every member runs
 * and every member is reachable; else 503 naming what is down where.
 */
export async function fullClusterHealth (source: HealthSource, self: string, members: () => Promise<MemberListeners[]>): Promise<HealthAnswer> {
  const reasons = listenerProblems(source).map(r => `${self}: ${r}`)
  const offline = source.peers().filter(p => !p.running).map(p => p.name)
  if (offline.length > 0) reasons.push(`At least one node is offline: [${offline.join(', ')}]`)
  for (const member of await members()) {
    if (member.problem !== undefined) {
      reasons.push(`${member.name}: ${member.problem}`)
      continue
    }
    const down = (member.rows ?? []).filter(r => !NOT_MQTT.has(r.type) && r.status !== 'running')
    if (down.length > 0) reasons.push(`${member.name}: Listeners are not ready: [${down.map(r => `${r.type} ${r.address}:${r.port} ${r.status}`).join(', ')}]`)
  }
  return reasons.length === 0 ? { code: 200, body: { status: 'OK' } } : { code: 503, body: { status: 'DOWN', reasons } }
}
