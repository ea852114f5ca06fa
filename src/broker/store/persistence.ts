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
// a type, not an interface: it is assignable to the store's open packet shape (PacketLike)
export type StoredPacket = {
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

// method syntax: implementations may take narrower packet and client types
export interface Persistence {
  setup (broker: unknown): Promise<void>
  storeRetained (packet: StoredPacket): Promise<void>
  createRetainedStreamCombi (patterns: string[]): AsyncIterable<StoredPacket>
  addSubscriptions (client: ClientRef, subs: StoredSubscription[]): Promise<void>
  removeSubscriptions (client: ClientRef, topics: string[]): Promise<void>
  cleanSubscriptions (client: ClientRef): Promise<void>
  subscriptionsByClient (client: ClientRef): Promise<StoredSubscription[] | null>
  outgoingStream (client: ClientRef): AsyncIterable<StoredPacket>
  outgoingClearMessageId (client: ClientRef, packet: StoredPacket): Promise<unknown>
  outgoingEnqueueCombi (subs: Array<{ clientId: string, topic: string, qos: number }>, packet: StoredPacket): Promise<void>
  destroy (): Promise<void>
}

export function memoryPersistence (): Persistence {
  return new MemoryPersistence() as unknown as Persistence
}
