// The promise-based persistence interface aedes 2 calls, as far as vmq-ts code
// uses it directly (sessions moving between nodes, subscription tracking).
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js'
import type { IPublishPacket } from 'mqtt-packet'

/** a client as the store sees it; `clean: true` reads its whole stored queue (see outgoingStream) */
export interface ClientRef { id: string, clean?: boolean }
export interface StoredSubscription {
  topic: string
  qos: number
  /** MQTT 5 subscription options and identifier, when the client set them */
  rh?: number
  rap?: boolean
  nl?: boolean
  subscriptionIdentifier?: number
}
export interface StoredPacket {
  cmd?: string
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  messageId?: number
  brokerId?: string
  brokerCounter?: number
  /** MQTT 5 properties, as mqtt-packet reads them */
  properties?: IPublishPacket['properties']
  /** aedes' absolute Message Expiry (ms epoch) */
  messageExpiry?: number
}

export interface Persistence {
  setup: (broker: unknown) => Promise<void>
  storeRetained: (packet: StoredPacket) => Promise<void>
  createRetainedStreamCombi: (patterns: string[]) => AsyncIterable<StoredPacket>
  addSubscriptions: (client: ClientRef, subs: StoredSubscription[]) => Promise<void>
  removeSubscriptions: (client: ClientRef, topics: string[]) => Promise<void>
  cleanSubscriptions: (client: ClientRef) => Promise<void>
  subscriptionsByClient: (client: ClientRef) => Promise<StoredSubscription[] | null>
  outgoingStream: (client: ClientRef) => AsyncIterable<StoredPacket>
  outgoingClearMessageId: (client: ClientRef, packet: StoredPacket) => Promise<unknown>
  outgoingEnqueueCombi: (subs: Array<{ clientId: string, topic: string, qos: number }>, packet: StoredPacket) => Promise<void>
  destroy: () => Promise<void>
  /** Whether a persistent session of the client id is stored, subscriptions or not (the durable store knows). */
  hasSession?: (clientId: string) => boolean
  /** Deletes the queued copy of a message by its origin (the durable store has it; aedes' memory persistence, in tests, does not). */
  dropQueued?: (clientId: string, brokerId: string, brokerCounter: number) => Promise<void>
  /** Removes and returns a client's whole stored queue (the durable store has it; else stream and clear one by one). */
  takeQueue?: (clientId: string) => Promise<StoredPacket[]>
}

export function memoryPersistence (): Persistence {
  return new MemoryPersistence() as unknown as Persistence
}
