// What the node keeps on disk for one mountpoint, as the delivery layer and
// session moves use it: aedes' persistence contract (the part vmq-ts calls
// itself, persistence.ts) plus the operations a session needs that aedes has no
// word for. Reads change nothing; every delete names what it deletes (no
// packet-id markers). LevelPersistence is the one implementation.
import type { Persistence, StoredPacket } from './persistence.js'

export interface DurableStore extends Persistence {
  /** Whether a persistent session of the client id is stored, subscriptions or not. */
  hasSession (clientId: string): boolean
  /** Records that a persistent session exists (it resumes with Session Present even without subscriptions). */
  markSession (clientId: string): Promise<void>
  /** Deletes the queued copy of a message by its origin (a session will not deliver it). */
  dropQueued (clientId: string, brokerId: string, brokerCounter: number): Promise<void>
  /** Deletes the stored copy a PUBACK/PUBCOMP acknowledged (by packet id), without returning it. */
  clearAcked (clientId: string, messageId: number): void
  /** The client's stored queue as outgoingStream gives it, as a plain async iterable. */
  queued (client: { id: string, clean?: boolean }): AsyncIterable<StoredPacket>
  /** Removes and returns a client's whole stored queue, oldest first (its session moves to another node). */
  takeQueue (clientId: string): Promise<StoredPacket[]>
}
