// The aedes instance of one mountpoint and what it runs on: its store (the
// durable store seen through the delivery layer), its cluster emitter and its
// delivery layer. node.ts makes one per mountpoint on first use.
import type { Aedes } from 'aedes'
import type { DurableStore } from './store/durable-store.js'
import type { LevelPersistence } from './store/level-persistence.js'
import type { ClusterMq } from '../cluster/router.js'
import type { Queues } from './delivery/queues.js'

/** The aedes instance of one mountpoint and the persistence it uses. */
export interface Instance {
  mountpoint: string
  broker: Aedes
  persistence: DurableStore
  store: LevelPersistence
  mq: ClusterMq
  /** client ids with persistent sessions (stored subscriptions) */
  persistentClients: () => string[]
  /** inflight windows, online/offline queues, retries, expiration, session groups */
  queues: Queues
}
