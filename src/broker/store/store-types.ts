// The shapes the durable store reads from aedes and hands back.
import type { StoredSubscription } from './persistence.js'

export type StoreLogLevel = 'debug' | 'info' | 'warn' | 'error'

/** The parts of an aedes packet the store reads; everything else is kept as is. */
export interface PacketLike {
  cmd?: string
  topic?: string
  payload?: unknown
  qos?: number
  retain?: boolean
  dup?: boolean
  messageId?: number
  brokerId?: string
  brokerCounter?: number
  [field: string]: unknown
}

export type SubscriptionLike = StoredSubscription

export interface ClientLike {
  id: string
  /** aedes: the session ends with the connection (v3/v4 clean session, v5 expiry 0) */
  clean?: boolean
  /** aedes: v5 Clean Start */
  _cleanStart?: boolean
}

/** What the aedes 'subscribe' event tells about the client. */
export interface SubscribingClient {
  id: string
  clean?: boolean
  subscriptions?: Record<string, { qos: number, rh?: number, rap?: boolean, nl?: boolean, si?: number }>
}

/** The parts of the aedes instance the store reads. */
export interface BrokerLike {
  id: string
  clients?: Record<string, unknown>
  on?: (event: 'subscribe', listener: (subs: SubscriptionLike[], client: SubscribingClient) => void) => unknown
}

/** What the disk holds, as the write checks compare it with memory (see write-recovery.ts). */
export interface DiskKeys {
  keys: Set<string>
  subscriptions: Map<string, Buffer>
}
