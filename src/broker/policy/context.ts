// What the CONNECT, PUBLISH and SUBSCRIBE policies of one mountpoint need from
// the node, and the facts they share.
import type { Aedes, Client } from 'aedes'
import type { Settings } from '../../config/settings.js'
import type { AuthChain } from '../auth/chain.js'
import type { ClientInfo } from '../auth/types.js'
import { getMeta } from '../client-meta.js'
import type { Logger } from '../log.js'
import type { Cluster } from '../../cluster/cluster.js'
import type { DurableStore } from '../store/durable-store.js'
import type { PublishProperties } from '../../cluster/properties.js'
import type { BrokerCounters } from '../counters.js'
import type { Queues } from '../delivery/queues.js'
import { publicClientId } from '../delivery/groups.js'

/** What the policies use of a mountpoint's LevelDB store. */
export interface AcceptingStore {
  hasPersistentSubscribers: (topic: string) => boolean
  journal: (packet: { topic: string, payload: Buffer, qos: number, retain: boolean, properties?: PublishProperties }, held?: boolean, prequeue?: boolean) => Promise<void>
  writeFailure: () => string | undefined
  /** aedes' record of a QoS 2 PUBLISH received and not yet released (PUBREL) */
  incomingGetPacket: (client: { id: string }, packet: { messageId?: number }) => Promise<unknown>
  incomingStorePacket: (client: { id: string }, packet: { topic: string, payload: Buffer | string, qos: number, retain: boolean, messageId?: number }) => Promise<void>
  /** a client's own max_offline_messages (undefined: the node's) */
  setClientMaxOffline: (clientId: string, limit: number | undefined) => void
  /** a client's own queue_type = lifo (undefined: the node's) */
  setClientLifo: (clientId: string, lifo: boolean | undefined) => void
}

export interface HookContext {
  settings: Settings
  chain: AuthChain
  log: Logger
  cluster: Cluster
  /**
   * the aedes instance of a mountpoint and its stores (a session taken over
   * from another member lands there; a plugin may move a PUBLISH there)
   */
  instance: (mountpoint: string) => Promise<{ broker: Aedes, persistence: DurableStore, store: AcceptingStore }>
  /** the durable store of this aedes instance (journal of accepted messages) */
  store: AcceptingStore
  counters: BrokerCounters
  /** the delivery layer of the mountpoint these hooks serve */
  queues: Queues
}

/** A cluster member is unreachable (the *_during_netsplit keys decide what is still allowed). */
export function inNetsplit (ctx: HookContext): boolean {
  return ctx.cluster.hasPeers() && !ctx.cluster.ready()
}

export function clientInfo (client: Client): ClientInfo {
  const meta = getMeta(client)
  return {
    clientId: publicClientId(client.id),
    username: meta?.username,
    mountpoint: meta?.mountpoint ?? '',
    // the plugins met a connection registered early before aedes did
    connection: meta?.early?.connection ?? client,
    protocolVersion: meta?.protocolVersion,
    peerHost: meta?.peerHost,
    peerPort: meta?.peerPort,
    clean: meta?.clean,
    connectProperties: meta?.connectProperties
  }
}
