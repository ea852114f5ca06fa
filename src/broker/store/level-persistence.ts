// The durable store: an aedes 2 persistence kept in LevelDB, as VerneMQ keeps
// its offline queues. Retained messages, persistent subscriptions, queued and
// in-flight outgoing messages, incoming QoS 2 state and wills survive a restart
// or `kill -9`.
//
// Everything aedes looks up on the hot path is answered from memory: the
// subscription index (who gets a copy of a message), the per-client queue
// index (which stored message a PUBACK/PUBREC refers to), and the key sets of
// retained topics, wills and incoming packet ids. Packets stay on disk. All
// writes go through one group-commit batcher, in order; a promise from this
// class settles when its writes are in LevelDB's log, except for queued and
// retained messages, which are written behind (see outgoingEnqueueCombi and
// flushed()).
//
// This class answers aedes and the node; each concern is a part of its own:
// the journal (journal.ts), the queues (outgoing-queues.ts), subscriptions
// (persistent-subscriptions.ts), session markers, retained messages, wills,
// incoming QoS 2 state, and the write checks after a failed write
// (write-recovery.ts).
import type { DurableStore } from './durable-store.js'
import type { StoredPacket } from './persistence.js'
import { Readable } from 'node:stream'
import type { Stored } from './codec.js'
import { IncomingPackets } from './incoming-packets.js'
import { Journal } from './journal.js'
import { openDatabase, StoreError, type Db } from './open-db.js'
import { OutgoingQueues } from './outgoing-queues.js'
import { PersistentSubscriptions } from './persistent-subscriptions.js'
import { QueueLimits } from './queue-limits.js'
import { RetainedMessages } from './retained-messages.js'
import { SessionMarkers } from './session-markers.js'
import { StoreIo } from './store-io.js'
import type { BrokerLike, ClientLike, DiskKeys, PacketLike, StoreLogLevel, SubscriptionLike } from './store-types.js'
import type { TopicMatch } from './topic-index.js'
import { Wills } from './wills.js'
import { WriteBatcher, type WriteOp } from './write-batcher.js'
import { WRITE_CHECK_INTERVAL_MS, WriteChecks } from './write-recovery.js'

export { StoreError, type StoreErrorCode } from './open-db.js'
export type { PacketLike, StoreLogLevel, SubscriptionLike } from './store-types.js'
export { WRITE_CHECK_INTERVAL_MS } from './write-recovery.js'

const ENQUEUED: Promise<void> = Promise.resolve()
/** the usual answer of subscriptionsByTopic: no persistent subscription matches (frozen: aedes gets it for every message) */
const NO_MATCHES: Promise<readonly TopicMatch[]> = Promise.resolve(Object.freeze([]))

export interface LevelPersistenceOptions {
  /** LevelDB data dir; created when missing */
  path: string
  /** per offline persistent session: -1 unlimited, 0 queue nothing; default 1000 (VerneMQ's) */
  maxOfflineMessages?: number
  log?: (level: StoreLogLevel, msg: string) => void
}

export interface StoreStats {
  /** messages dropped because an offline session's queue was at max_offline_messages */
  offlineDropped: number
  queuedMessages: number
  clientsWithQueue: number
  retainedMessages: number
  /** persistent subscriptions with QoS > 0 */
  subscriptions: number
  clientsWithSubscriptions: number
}

export async function openLevelPersistence (options: LevelPersistenceOptions): Promise<LevelPersistence> {
  const db = await openDatabase(options.path)
  const store = new LevelPersistence(db, options)
  try {
    await store.load()
  } catch (err) {
    await db.close()
    if (err instanceof StoreError) throw err
    throw new StoreError(`data dir ${options.path} is corrupt: ${(err as Error).message}`, 'STORE_CORRUPT', options.path, { cause: err })
  }
  return store
}

export class LevelPersistence implements DurableStore {
  readonly path: string
  readonly #io: StoreIo
  readonly #log: (level: StoreLogLevel, msg: string) => void
  readonly #limits: QueueLimits
  readonly #journal: Journal
  readonly #queues: OutgoingQueues
  readonly #subscriptions: PersistentSubscriptions
  readonly #sessions: SessionMarkers
  readonly #retained: RetainedMessages
  readonly #wills: Wills
  readonly #incoming: IncomingPackets
  readonly #writeChecks: WriteChecks
  #broker: BrokerLike | undefined
  #closed = false

  /** Use openLevelPersistence(); this does not read the disk. */
  constructor (db: Db, options: LevelPersistenceOptions) {
    this.path = options.path
    this.#log = options.log ?? (() => {})
    const batcher = new WriteBatcher(db, err => {
      this.#log('error', `store ${this.path}: write failed: ${err.message}; the store takes no more writes and ` +
        `new persistent sessions are refused until a test write succeeds (tried every ${WRITE_CHECK_INTERVAL_MS / 1000} s)`)
      this.#writeChecks.start()
    })
    const io = this.#io = new StoreIo(db, batcher)
    this.#limits = new QueueLimits(options.maxOfflineMessages)
    this.#journal = new Journal(io)
    this.#queues = new OutgoingQueues(io, this.#limits, this.#log)
    this.#subscriptions = new PersistentSubscriptions(io)
    this.#sessions = new SessionMarkers(io)
    this.#retained = new RetainedMessages(io)
    this.#wills = new Wills(io)
    this.#incoming = new IncomingPackets(io)
    this.#writeChecks = new WriteChecks({
      path: this.path, io, log: this.#log, closed: () => this.#closed, alignWithMemory: disk => this.#alignWithMemory(disk)
    })
  }

  /** Why the store takes no more writes (a write failed), or undefined while it does. */
  writeFailure (): string | undefined {
    return this.#io.batcher.failure?.message
  }

  /** Rebuilds the in-memory indexes from disk; called once by openLevelPersistence. */
  async load (): Promise<void> {
    await this.#subscriptions.load()
    await this.#queues.load()
    await this.#incoming.load()
    await this.#journal.load()
    await this.#retained.load()
    await this.#wills.load()
    await this.#sessions.load()
    const s = this.stats()
    this.#log('info', `store ${this.path} opened: ${s.clientsWithSubscriptions} persistent sessions, ` +
      `${s.queuedMessages} queued messages for ${s.clientsWithQueue} clients, ${s.retainedMessages} retained messages`)
  }

  /** Every stored subscription (persistent sessions), e.g. to advertise them after a restart. */
  allSubscriptions (): Array<{ clientId: string, topic: string, qos: number }> {
    return this.#subscriptions.all()
  }

  /** Whether a persistent session subscribes to the topic (messages for it are journaled). */
  hasPersistentSubscribers (topic: string): boolean {
    return this.#subscriptions.match(topic).length > 0
  }

  /**
   * Makes an accepted message durable before aedes acknowledges it: written as
   * queued for the persistent sessions subscribed to its topic (see
   * prequeued.ts), else as a journal entry (see journal.ts). `prequeue` false:
   * a journal entry in any case. A node with cluster members journals, since
   * a session may move to another member before aedes queues the message, and
   * after a crash only a journal entry is routed again (to where it went).
   */
  async journal (packet: PacketLike, held = false, prequeue = true): Promise<void> {
    if (!held && prequeue) {
      if (this.#queues.isPrequeued(packet.payload as Buffer)) return
      const prequeued = this.#queues.prequeue(packet, this.#subscriptions.match(String(packet.topic)))
      if (prequeued !== undefined) {
        await this.#io.batcher.write([prequeued])
        return
      }
    }
    await this.#journal.journal(packet, held)
  }

  /**
   * Messages journaled but not queued (or not confirmed by the members they
   * were routed to) before the last stop; publish them again (each once) and
   * release() each when published.
   */
  takeJournal (): PacketLike[] {
    return this.#journal.take()
  }

  /** A held journal entry is no longer needed (see journal). */
  release (payload: Buffer): void {
    this.#journal.release(payload)
  }

  /**
   * Records that a persistent session exists, so a reconnect resumes it (Session
   * Present) even when it has no subscription. cleanSubscriptions ends it.
   */
  async markSession (clientId: string): Promise<void> {
    await this.#sessions.mark(clientId)
  }

  /** Whether a persistent session of this client id is stored. */
  hasSession (clientId: string): boolean {
    return this.#sessions.has(clientId) || this.#subscriptions.has(clientId)
  }

  /**
   * A client's own max_offline_messages (an auth plugin's at its last CONNECT,
   * kept while its session is offline); undefined goes back to the node's.
   */
  setClientMaxOffline (clientId: string, limit: number | undefined): void {
    this.#limits.setClientMaxOffline(clientId, limit)
  }

  /** A client's own queue_type (lifo or not; undefined: the node's), kept like setClientMaxOffline's limit. */
  setClientLifo (clientId: string, lifo: boolean | undefined): void {
    this.#limits.setClientLifo(clientId, lifo)
  }

  /** max_offline_messages changed at run time (-1 unlimited, 0 none). */
  setMaxOfflineMessages (limit: number): void {
    this.#limits.setMaxOffline(limit)
  }

  /** queue_type: lifo makes a full offline queue drop its oldest message instead of the new one. */
  setLifo (lifo: boolean): void {
    this.#limits.setLifo(lifo)
  }

  // ---- aedes persistence interface ----

  get broker (): BrokerLike | undefined {
    return this.#broker
  }

  async setup (broker: BrokerLike): Promise<void> {
    this.#broker = broker
    broker.on?.('subscribe', (subs, client) => { this.#subscriptions.afterSubscribe(subs, client) })
  }

  /** Write-behind, like outgoingEnqueueCombi (see there). */
  async storeRetained (packet: PacketLike): Promise<void> {
    this.#retained.store(packet)
  }

  /** Deletes the retained messages `expired` says have run out (expire_retain_cache); returns how many. */
  async expireRetained (expired: (message: Stored) => boolean): Promise<number> {
    return await this.#retained.sweep(expired)
  }

  createRetainedStream (pattern: string): Readable {
    return Readable.from(this.#retained.matching([pattern]))
  }

  createRetainedStreamCombi (patterns: string[]): Readable {
    return Readable.from(this.#retained.matching(patterns))
  }

  /**
   * aedes 2.0.0-beta.1 hands over the whole SUBSCRIBE packet once per granted
   * filter, refused filters included (they are settled after the SUBACK, see
   * PersistentSubscriptions.afterSubscribe). A filter already marked with a
   * failure code is skipped.
   */
  async addSubscriptions (client: ClientLike, subs: SubscriptionLike[]): Promise<void> {
    await this.#subscriptions.add(client.id, subs)
  }

  async removeSubscriptions (client: ClientLike, topics: string[]): Promise<void> {
    await this.#subscriptions.remove(client.id, topics)
  }

  /** aedes calls this when a persistent session resumes: it starts a delivery session. */
  async subscriptionsByClient (client: ClientLike): Promise<Array<SubscriptionLike>> {
    this.#queues.startSession(client.id)
    return this.#subscriptions.of(client.id)
  }

  async countOffline (): Promise<{ subsCount: number, clientsCount: number }> {
    return { subsCount: this.#subscriptions.count, clientsCount: this.#subscriptions.clients }
  }

  /** Not async: aedes asks for every QoS 1/2 message, and mostly nothing matches. */
  subscriptionsByTopic (topic: string): Promise<readonly TopicMatch[]> {
    try {
      const found = this.#subscriptions.match(topic)
      return found.length === 0 ? NO_MATCHES : Promise.resolve(found)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * aedes calls this when a client connects with a clean session/clean start
   * (and when a v5 session ends). Besides the subscriptions it drops the
   * client's incoming QoS 2 state: aedes 2.0.0-beta.1 would otherwise take a
   * new session's PUBLISH that reuses a packet id left unreleased by the old
   * session for a duplicate, answer PUBREC/PUBCOMP and never deliver it.
   */
  async cleanSubscriptions (client: ClientLike): Promise<void> {
    this.#queues.endSession(client.id)
    const ops: WriteOp[] = this.#incoming.cleanOps(client.id)
    this.#sessions.unmark(client.id, ops)
    this.#subscriptions.clean(client.id, ops)
    await this.#io.write(ops)
  }

  async outgoingEnqueue (sub: { clientId: string }, packet: PacketLike): Promise<void> {
    await this.outgoingEnqueueCombi([sub], packet)
  }

  /**
   * Write-behind: the copies are indexed (and readable) at once and written
   * with the next batch; the promise does not wait for the disk. aedes numbers
   * a message (brokerCounter) before storing it and routes it after, and its
   * per-subscriber dedupe drops any message routed after one with a higher
   * number: a disk wait here would let a QoS 0 message overtake a queued one
   * and make subscribers of both lose the queued one. Durability for an
   * acknowledgement comes from flushed() (see there).
   */
  outgoingEnqueueCombi (subs: ReadonlyArray<{ clientId: string }>, packet: PacketLike): Promise<void> {
    try {
      const ops: WriteOp[] = []
      const journaled = this.#journal.queued(packet, ops)
      this.#queues.enqueue(subs, packet, this.#broker?.clients, ops, journaled)
    } catch (err) {
      return Promise.reject(err)
    }
    // one settled promise for every call: aedes calls this for each QoS 1/2 message
    return ENQUEUED
  }

  /**
   * A queued PUBLISH got its packet id (it is being sent), or a PUBLISH became
   * a PUBREL. A PUBLISH that was never queued here is queued now: aedes sends
   * it to a persistent session and its PUBACK must find it (this happens for
   * messages emitted straight on the mq, e.g. from a cluster peer, and for a
   * message published while the session was still connecting and its queue full).
   */
  async outgoingUpdate (client: ClientLike, packet: PacketLike): Promise<void> {
    await this.#queues.update(client, packet)
  }

  async outgoingClearMessageId (client: ClientLike, packet: PacketLike | undefined): Promise<Stored | undefined> {
    return await this.#queues.clearMessageId(client, packet)
  }

  /**
   * Deletes the copy a PUBACK or PUBCOMP acknowledged, written behind and
   * without reading it back (outgoingClearMessageId returns it): a crash
   * before the delete is on disk sends it again, as QoS 1 and 2 allow.
   */
  clearAcked (clientId: string, messageId: number): void {
    this.#queues.clearAcked(clientId, messageId)
  }

  /**
   * The client's queue, oldest first. When a persistent session resumes, aedes
   * restores its subscriptions before it streams the queue, so a message routed
   * in between is sent live; copies already sent in this session are left out
   * so they are not sent twice. A clean session gets everything, for aedes to
   * discard.
   */
  outgoingStream (client: ClientLike): Readable {
    return Readable.from(this.queued(client))
  }

  /** outgoingStream without the stream, for the delivery layer (one promise per packet less). */
  queued (client: ClientLike): AsyncIterable<StoredPacket> {
    return this.#queues.queued(client)
  }

  /** Deletes the queued copy of a message (by its origin) that the client's session will not deliver. */
  async dropQueued (clientId: string, brokerId: string, brokerCounter: number): Promise<void> {
    await this.#queues.dropQueued(clientId, brokerId, brokerCounter)
  }

  /**
   * Removes a client's whole stored queue and returns it, oldest first, with one
   * delete: its session moves to another node. What it holds is taken at once,
   * so a message queued meanwhile stays (and is not deleted unread).
   */
  async takeQueue (clientId: string): Promise<StoredPacket[]> {
    return await this.#queues.take(clientId)
  }

  async incomingStorePacket (client: ClientLike, packet: PacketLike): Promise<void> {
    await this.#incoming.store(client, packet)
  }

  async incomingGetPacket (client: ClientLike, packet: PacketLike): Promise<Stored> {
    return await this.#incoming.get(client, packet)
  }

  async incomingDelPacket (client: ClientLike, packet: PacketLike): Promise<void> {
    await this.#incoming.del(client, packet)
  }

  async putWill (client: ClientLike, packet: PacketLike): Promise<void> {
    await this.#wills.put(client, packet, this.#broker?.id)
  }

  async getWill (client: ClientLike): Promise<Stored | undefined> {
    return await this.#wills.get(client)
  }

  async delWill (client: ClientLike): Promise<Stored | undefined> {
    return await this.#wills.del(client)
  }

  /** Wills of clients whose broker is not in `brokers` (brokerId -> last heartbeat). */
  streamWill (brokers: Record<string, unknown> = {}): Readable {
    return Readable.from(this.#wills.notFrom(brokers))
  }

  /** Client ids holding a persistent subscription to exactly `topic`. */
  getClientList (topic: string): Readable {
    return Readable.from(this.#subscriptions.clientsOf(topic))
  }

  async destroy (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#writeChecks.stop()
    this.#queues.close()
    await this.#io.batcher.drain()
    await this.#io.db.close()
  }

  // ---- for the node ----

  /**
   * Resolves when everything stored so far is in LevelDB. Queued and retained
   * messages are written behind (see outgoingEnqueueCombi); wire aedes'
   * `published` hook to wait for this before QoS 2 PUBLISHes are acknowledged
   * (aedes sends PUBREC after `published` calls back). Rejects if a write failed.
   */
  async flushed (): Promise<void> {
    this.#queues.writeDeferred()
    await this.#io.batcher.flushed()
  }

  /**
   * Drops a client's incoming QoS 2 state. cleanSubscriptions already does it
   * on a clean-session connect; call this when a clean v3/v4 session
   * disconnects, so ids of clients that never come back leave nothing behind.
   */
  async cleanIncoming (clientId: string): Promise<void> {
    await this.#io.write(this.#incoming.cleanOps(clientId))
  }

  /** Messages queued (waiting or in flight) for one client. */
  queueLength (clientId: string): number {
    return this.#queues.length(clientId)
  }

  get offlineDropped (): number {
    return this.#queues.offlineDropped
  }

  stats (): StoreStats {
    const { queuedMessages, clientsWithQueue } = this.#queues.stats()
    return {
      offlineDropped: this.#queues.offlineDropped,
      queuedMessages,
      clientsWithQueue,
      retainedMessages: this.#retained.size,
      subscriptions: this.#subscriptions.count,
      clientsWithSubscriptions: this.#subscriptions.clients
    }
  }

  /**
   * Writes what memory holds and the disk lacks (subscriptions, session
   * markers) and deletes what the disk holds and memory dropped. A message,
   * retained message, will or QoS 2 state that memory lists but the disk never
   * got is gone: memory forgets it too.
   */
  #alignWithMemory (disk: DiskKeys): WriteOp[] {
    const ops: WriteOp[] = []
    const kept = new Set<string>()
    this.#subscriptions.alignWithDisk(disk, kept, ops)
    this.#sessions.alignWithDisk(disk.keys, kept, ops)
    this.#queues.alignWithDisk(disk.keys, kept)
    this.#incoming.alignWithDisk(disk.keys, kept)
    this.#retained.alignWithDisk(disk.keys, kept)
    this.#wills.alignWithDisk(disk.keys, kept)
    for (const key of [...disk.keys, ...disk.subscriptions.keys()]) {
      if (!kept.has(key)) ops.push({ type: 'del', key })
    }
    return ops
  }
}
