// What `session show`, `session disconnect` and `session reauthorize` do on one
// node: its online clients and its offline persistent sessions (stored
// subscriptions and queued messages), per mountpoint.
import type { Client } from 'aedes'
import { SESSION_DEFAULT_COLUMNS, SESSION_FIELDS } from '../../rpc/query-fields.js'
import type { CellValue } from '../../rpc/table.js'
import { getMeta } from '../client-meta.js'
import type { AdminHost } from './host.js'
import type { Instance } from '../instance.js'
import { matchesAll, sortRows, type Query, type QueryShape, type Row } from './query.js'
import { subscriptionsOf } from '../delivery/adapter.js'
import { publicClientId } from '../delivery/groups.js'
import { handOver } from '../sessions.js'
import type { Persistence } from '../store/persistence.js'

export const SESSION_SHAPE: QueryShape = {
  fields: Object.keys(SESSION_FIELDS),
  defaults: SESSION_DEFAULT_COLUMNS,
  sortBy: ['mountpoint', 'client_id', 'node', 'topic'],
  textOnly: ['client_id', 'mountpoint', 'node', 'peer_host', 'topic', 'user']
}

const QUEUE_FIELDS = ['queue_size', 'offline_messages', 'online_messages', 'waiting_acks']
const SUBSCRIPTION_FIELDS = ['topic', 'qos']

/** MQTT 5 reason code "Administrative action" of the DISCONNECT sent to a v5 client. */
const ADMINISTRATIVE_ACTION = 0x98

interface LocalSession { instance: Instance, clientId: string, client: Client | undefined }

/** This node's rows of a session query, every field kept: filtered, in the query's order, at most `limit`. */
export async function localSessionRows (node: AdminHost, query: Query): Promise<Row[]> {
  const used = new Set([...query.columns, ...query.filters.map(f => f.field)])
  const withQueue = QUEUE_FIELDS.some(f => used.has(f))
  const perSubscription = SUBSCRIPTION_FIELDS.some(f => used.has(f))
  const rows: Row[] = []
  for (const session of await localSessions(node)) {
    const base = sessionRow(node, session)
    if (withQueue) Object.assign(base, await queueFields(session))
    const expanded = perSubscription
      ? (await sessionSubscriptions(session)).map(s => ({ ...base, topic: s.topic, qos: s.qos }))
      : [base]
    for (const row of expanded) if (matchesAll(query, row)) rows.push(row)
  }
  return sortRows(rows, query.order).slice(0, query.limit)
}

async function localSessions (node: AdminHost): Promise<LocalSession[]> {
  const instances = new Map((await node.allInstances()).map(i => [i.mountpoint, i]))
  const sessions: LocalSession[] = []
  for (const { mountpoint, client } of node.sessions.all()) {
    const instance = instances.get(mountpoint)
    if (instance !== undefined) sessions.push({ instance, clientId: publicClientId(client.id), client })
  }
  for (const instance of instances.values()) {
    for (const clientId of instance.persistentClients()) {
      if (node.sessions.client(instance.mountpoint, clientId) === undefined) sessions.push({ instance, clientId, client: undefined })
    }
  }
  return sessions
}

function sessionRow (node: AdminHost, { instance, clientId, client }: LocalSession): Row {
  const common = { node: node.name, mountpoint: instance.mountpoint, client_id: clientId }
  const meta = getMeta(client)
  if (client === undefined || meta === undefined) {
    return {
      ...common, is_online: false, is_offline: true, clean_session: false, num_sessions: 0,
      user: null, peer_host: null, peer_port: null, protocol: null, session_started_at: null
    }
  }
  return {
    ...common,
    is_online: true,
    is_offline: false,
    clean_session: meta.clean,
    num_sessions: node.sessions.connections(instance.mountpoint, clientId).length,
    user: meta.username ?? null,
    peer_host: plainAddress(meta.peerHost),
    peer_port: meta.peerPort ?? null,
    protocol: meta.protocolVersion,
    session_started_at: node.sessions.startedAt(client) ?? null
  }
}

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) as `10.0.0.1`. */
function plainAddress (host: string | undefined): string | null {
  if (host === undefined) return null
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice('::ffff:'.length) : host
}

/**
 * Online: the connection's queue (messages waiting for room in the inflight
 * window) and its window (sent, not yet acknowledged). Offline: the messages
 * stored for the session.
 */
async function queueFields ({ instance, clientId, client }: LocalSession): Promise<Record<string, CellValue>> {
  const counts = client === undefined ? undefined : instance.queues.counts(client)
  if (counts !== undefined) return { queue_size: counts.waiting, offline_messages: 0, online_messages: counts.waiting, waiting_acks: counts.inflight }
  const stored = await queuedCount(instance.persistence, clientId)
  return { queue_size: stored, offline_messages: stored, online_messages: 0, waiting_acks: null }
}

async function queuedCount (persistence: Persistence, clientId: string): Promise<number> {
  let n = 0
  for await (const _ of persistence.outgoingStream({ id: clientId })) n++
  return n
}

async function sessionSubscriptions ({ instance, clientId, client }: LocalSession): Promise<Array<{ topic: string, qos: number }>> {
  if (client !== undefined) return liveSubscriptions(client)
  return (await instance.persistence.subscriptionsByClient({ id: clientId })) ?? []
}

function liveSubscriptions (client: Client): Array<{ topic: string, qos: number }> {
  const subs = subscriptionsOf(client)
  return Object.entries(subs).map(([topic, s]) => ({ topic, qos: s.qos }))
}

/**
 * Disconnects the client if it is online here (a v5 client gets DISCONNECT
 * "administrative action"); with `cleanup` its stored subscriptions and
 * queued messages go too. False when this node has no such session.
 */
export async function disconnectLocal (node: AdminHost, mountpoint: string, clientId: string, cleanup: boolean): Promise<boolean> {
  const instance = await node.existingInstance(mountpoint)
  if (instance === undefined) return false
  const connections = node.sessions.connections(mountpoint, clientId)
  if (connections.length === 0 && !await hasStoredSession(instance, clientId)) return false
  await Promise.all(connections.map(async client => {
    await new Promise<void>(resolve => { client.disconnect({ reasonCode: ADMINISTRATIVE_ACTION }, () => { resolve() }) })
  }))
  if (cleanup) await handOver(instance.persistence, undefined, clientId, true)
  node.log.info({ clientId, mountpoint, cleanup }, 'session disconnected by vmq-admin')
  return true
}

async function hasStoredSession (instance: Instance, clientId: string): Promise<boolean> {
  if (instance.persistentClients().includes(clientId)) return true
  for await (const _ of instance.persistence.outgoingStream({ id: clientId })) return true
  return false
}

/**
 * Asks the authorization chain again about every subscription of the session
 * (as `username`) and removes the ones it no longer allows. Undefined when
 * this node has no such session.
 */
export async function reauthorizeLocal (node: AdminHost, mountpoint: string, clientId: string, username: string): Promise<'Done' | 'Unchanged' | undefined> {
  const instance = await node.existingInstance(mountpoint)
  if (instance === undefined) return undefined
  const connections = node.sessions.connections(mountpoint, clientId)
  if (connections.length === 0 && !await hasStoredSession(instance, clientId)) return undefined
  const who = { clientId, username, mountpoint }
  const revokedOf = (subs: Array<{ topic: string, qos: number }>): string[] =>
    subs.filter(s => !node.chain.subscribe(who, { topic: s.topic, qos: s.qos as 0 | 1 | 2 })).map(s => s.topic)
  const removed = new Set<string>()
  for (const client of connections) {
    const revoked = revokedOf(liveSubscriptions(client))
    if (revoked.length === 0) continue
    await new Promise<void>((resolve, reject) => {
      client.unsubscribe(revoked as unknown as Parameters<Client['unsubscribe']>[0], err => { if (err !== undefined && err !== null) reject(err); else resolve() })
    })
    if (!client.clean) await instance.persistence.removeSubscriptions({ id: client.id }, revoked)
    for (const topic of revoked) removed.add(topic)
  }
  if (connections.length === 0) {
    const revoked = revokedOf((await instance.persistence.subscriptionsByClient({ id: clientId })) ?? [])
    if (revoked.length > 0) await instance.persistence.removeSubscriptions({ id: clientId }, revoked)
    for (const topic of revoked) removed.add(topic)
  }
  if (removed.size === 0) return 'Unchanged'
  node.log.info({ clientId, mountpoint, username, removed: [...removed] }, 'session reauthorized: subscriptions no longer allowed were removed')
  return 'Done'
}
