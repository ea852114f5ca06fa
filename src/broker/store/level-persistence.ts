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
import type { DurableStore } from './durable-store.js'
import type { StoredPacket, StoredSubscription } from './persistence.js'
import { Readable } from 'node:stream'
import { decodeQueuedMeta, decodeValue, encodeQueued, encodeValue, queuedPart, sharedRecipients, withMessageId, type QueuedMeta, type Stored } from './codec.js'
import {
  incomingKey, journalKey, kindRange, messageKey, outgoingKey, parseClientKey, retainedKey, seqOfOutgoingKey, sessionKey, subscriptionKey, willKey
} from './keys.js'
import { openDatabase, StoreError, type Db } from './open-db.js'
import { ClientQueue, type QueuedRef } from './outgoing-index.js'
import { SharedMessages, type CachedMessage } from './shared-messages.js'
import { TopicIndex, type TopicMatch } from './topic-index.js'
import { filterMatches } from '../../mqtt/topic.js'
import { WriteBatcher, type WriteOp } from './write-batcher.js'
import { checkWritable } from './write-recovery.js'

export { StoreError, type StoreErrorCode } from './open-db.js'

export type StoreLogLevel = 'debug' | 'info' | 'warn' | 'error'

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

interface SubscriptionRecord {
  qos: number
  rh: number | undefined
  rap: boolean | undefined
  nl: boolean | undefined
  subscriptionIdentifier?: number
}

interface ClientLike {
  id: string
  /** aedes: the session ends with the connection (v3/v4 clean session, v5 expiry 0) */
  clean?: boolean
  /** aedes: v5 Clean Start */
  _cleanStart?: boolean
}

/** What the aedes 'subscribe' event tells about the client. */
interface SubscribingClient {
  id: string
  clean?: boolean
  subscriptions?: Record<string, { qos: number, rh?: number, rap?: boolean, nl?: boolean, si?: number }>
}

/** The parts of the aedes instance the store reads. */
interface BrokerLike {
  id: string
  clients?: Record<string, unknown>
  on?: (event: 'subscribe', listener: (subs: SubscriptionLike[], client: SubscribingClient) => void) => unknown
}

const DEFAULT_MAX_OFFLINE_MESSAGES = 1000
const READ_CHUNK = 256
/** how long a QoS 1 packet id waits for its PUBACK, and a moved watermark, before it is written */
const DEFERRED_WRITE_MS = 1000
const SCAN_BATCH = 1000
/** a SUBACK failure code: aedes hands denied filters to addSubscriptions too */
const FIRST_FAILURE_QOS = 0x80
const EMPTY_VALUE = Buffer.alloc(0)
/** how often a store that takes no writes checks whether it can again */
export const WRITE_CHECK_INTERVAL_MS = 5000

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
  readonly #db: Db
  readonly #batcher: WriteBatcher
  #maxOffline: number
  readonly #clientMaxOffline = new Map<string, number>()
  readonly #clientLifo = new Map<string, boolean>()
  #lifo = false
  readonly #log: (level: StoreLogLevel, msg: string) => void
  #broker: BrokerLike | undefined
  #closed = false
  #writeCheck: NodeJS.Timeout | undefined
  #checking = false

  readonly #subscriptions = new Map<string, Map<string, SubscriptionRecord>>()
  readonly #index = new TopicIndex()
  readonly #queues = new Map<string, ClientQueue>()
  /** client id -> seqs of shared copies queued since its queue was last used (see #indexed) */
  readonly #unindexed = new Map<string, number[]>()
  #lastSeq = 0
  /** QoS 1 packet ids given out and not yet written (see outgoingUpdate) */
  readonly #sentIds = new Map<QueuedRef, { clientId: string, packet: PacketLike }>()
  #deferredTimer: NodeJS.Timeout | undefined
  readonly #shared = new SharedMessages()
  /** shared messages being read for resumed sessions (see #readShared) */
  readonly #sharedReads = new Map<number, Promise<CachedMessage | undefined>>()
  #sharedToRead: Array<{ seq: number, resolve: (message: CachedMessage | undefined) => void, reject: (err: Error) => void }> = []
  /** client id -> number of its current delivery session (a resumed persistent session) */
  readonly #sessions = new Map<string, number>()
  #lastSession = 0
  readonly #incoming = new Map<string, Set<number>>()
  readonly #retained = new Set<string>()
  readonly #wills = new Set<string>()
  /** client ids of persistent sessions (see markSession) */
  readonly #kept = new Set<string>()
  #offlineDropped = 0
  /** journal entries of accepted messages, by payload (aedes keeps the payload Buffer through its copies) */
  readonly #journaled = new WeakMap<Buffer, string>()
  /** journal entries kept until release(): messages routed to cluster members, and those replayed at start */
  readonly #held = new WeakMap<Buffer, string>()
  #journalSeq = 0
  /** journal entries found at start: accepted but never queued before a crash */
  #unreplayed: Array<{ key: string, packet: PacketLike }> = []

  /** Use openLevelPersistence(); this does not read the disk. */
  constructor (db: Db, options: LevelPersistenceOptions) {
    this.path = options.path
    this.#db = db
    this.#log = options.log ?? (() => {})
    this.#batcher = new WriteBatcher(db, err => {
      this.#log('error', `store ${this.path}: write failed: ${err.message}; the store takes no more writes and ` +
        `new persistent sessions are refused until a test write succeeds (tried every ${WRITE_CHECK_INTERVAL_MS / 1000} s)`)
      this.#startWriteChecks()
    })
    this.#maxOffline = options.maxOfflineMessages ?? DEFAULT_MAX_OFFLINE_MESSAGES
  }

  /** Why the store takes no more writes (a write failed), or undefined while it does. */
  writeFailure (): string | undefined {
    return this.#batcher.failure?.message
  }

  /** Rebuilds the in-memory indexes from disk; called once by openLevelPersistence. */
  async load (): Promise<void> {
    await this.#scan('s', true, (key, value) => {
      const { clientId, rest: topic } = parseClientKey(key)
      this.#remember(clientId, topic, decodeValue(value as Buffer) as unknown as SubscriptionRecord)
    })
    await this.#loadQueues()
    await this.#scan('i', false, key => {
      const { clientId, rest } = parseClientKey(key)
      this.#incomingIds(clientId).add(Number(rest))
    })
    await this.#scan('j', true, (key, value) => {
      this.#unreplayed.push({ key, packet: decodeValue(value as Buffer) as unknown as PacketLike })
      this.#journalSeq = Math.max(this.#journalSeq, parseInt(key.slice(1), 16))
    })
    await this.#scan('r', false, key => this.#retained.add(key.slice(1)))
    await this.#scan('w', false, key => this.#wills.add(key.slice(1)))
    await this.#scan('p', false, key => this.#kept.add(key.slice(1)))
    const s = this.stats()
    this.#log('info', `store ${this.path} opened: ${s.clientsWithSubscriptions} persistent sessions, ` +
      `${s.queuedMessages} queued messages for ${s.clientsWithQueue} clients, ${s.retainedMessages} retained messages`)
  }

  /** The queues: each client's own copies (o) and its copies of shared messages (q), in seq order. */
  async #loadQueues (): Promise<void> {
    const copies = new Map<string, Array<{ seq: number, meta: QueuedMeta, own: boolean }>>()
    const add = (clientId: string, seq: number, meta: QueuedMeta, own: boolean): void => {
      const list = copies.get(clientId)
      if (list === undefined) copies.set(clientId, [{ seq, meta, own }])
      else list.push({ seq, meta, own })
      if (seq > this.#lastSeq) this.#lastSeq = seq
    }
    await this.#scan('o', true, (key, value) => {
      const { clientId, rest } = parseClientKey(key)
      add(clientId, seqOfOutgoingKey(rest), decodeQueuedMeta(value as Buffer), true)
    })
    await this.#scan('a', true, (key, value) => this.#shared.loadWatermark(key.slice(1), value as Buffer))
    await this.#scan('x', false, key => {
      const { clientId, rest } = parseClientKey(key)
      this.#shared.loadRemoved(clientId, seqOfOutgoingKey(rest))
    })
    const ops: WriteOp[] = []
    await this.#scan('q', true, (key, value) => {
      const seq = parseInt(key.slice(1), 16)
      const meta = decodeQueuedMeta(value as Buffer)
      let queued = 0
      for (const clientId of sharedRecipients(value as Buffer)) {
        if (!this.#shared.isQueued(clientId, seq)) continue
        add(clientId, seq, meta, false)
        queued++
      }
      this.#shared.loadMessage(seq, queued, ops)
      if (seq > this.#lastSeq) this.#lastSeq = seq
    })
    this.#shared.loaded(ops)
    this.#lastSeq = Math.max(this.#lastSeq, this.#shared.highestWatermark())
    for (const [clientId, list] of copies) {
      // own records first among equal seqs: a shared copy that was sent has both
      list.sort((a, b) => a.seq - b.seq || Number(b.own) - Number(a.own))
      const queue = this.#queue(clientId)
      for (let i = 0; i < list.length; i++) {
        const first = list[i]
        const twin = i + 1 < list.length && list[i + 1].seq === first.seq ? list[++i] : undefined
        const ref = queue.append(first.seq, first.meta.brokerId, first.meta.brokerCounter, first.meta.messageId)
        ref.own = first.own
        ref.shared = !first.own || twin !== undefined
      }
    }
    await this.#write(ops)
  }

  /** Every stored subscription (persistent sessions), e.g. to advertise them after a restart. */
  allSubscriptions (): Array<{ clientId: string, topic: string, qos: number }> {
    const all: Array<{ clientId: string, topic: string, qos: number }> = []
    for (const [clientId, stored] of this.#subscriptions) {
      for (const [topic, record] of stored) all.push({ clientId, topic, qos: record.qos })
    }
    return all
  }

  /** Whether a persistent session subscribes to the topic (messages for it are journaled). */
  hasPersistentSubscribers (topic: string): boolean {
    return this.#index.match(topic).length > 0
  }

  /**
   * aedes acknowledges a QoS 1 PUBLISH before it routes it into the offline
   * queues. To make an acknowledged message survive a crash, the node journals
   * it before aedes acknowledges; the journal entry is deleted in the same
   * LevelDB batch that writes its queue copies (outgoingEnqueueCombi), and
   * entries left after a crash are published again at start (takeJournal).
   * A `held` entry (a message routed to other cluster members) is deleted by
   * release() instead, once the members have it.
   */
  async journal (packet: PacketLike, held = false): Promise<void> {
    const payload = packet.payload as Buffer
    if (this.#journaled.has(payload) || this.#held.has(payload)) return
    const key = journalKey(++this.#journalSeq)
    if (held) this.#held.set(payload, key)
    else this.#journaled.set(payload, key)
    const record: Stored = { cmd: 'publish', topic: packet.topic, payload, qos: packet.qos, retain: packet.retain }
    if (packet.properties !== undefined) addProperties(record, packet.properties as { messageExpiryInterval?: number })
    await this.#batcher.write([{ type: 'put', key, value: encodeValue(record) }])
  }

  /**
   * Messages journaled but not queued (or not confirmed by the members they
   * were routed to) before the last stop; publish them again (each once) and
   * release() each when published.
   */
  takeJournal (): PacketLike[] {
    const pending = this.#unreplayed
    this.#unreplayed = []
    for (const { key, packet } of pending) this.#held.set(packet.payload as Buffer, key)
    return pending.map(p => p.packet)
  }

  /** A held journal entry is no longer needed (see journal). */
  release (payload: Buffer): void {
    const key = this.#held.get(payload)
    if (key === undefined) return
    this.#held.delete(payload)
    this.#writeBehind([{ type: 'del', key }])
  }

  /**
   * Records that a persistent session exists, so a reconnect resumes it (Session
   * Present) even when it has no subscription. cleanSubscriptions ends it.
   */
  async markSession (clientId: string): Promise<void> {
    if (this.#kept.has(clientId)) return
    this.#kept.add(clientId)
    await this.#write([{ type: 'put', key: sessionKey(clientId), value: EMPTY_VALUE }])
  }

  /** Whether a persistent session of this client id is stored. */
  hasSession (clientId: string): boolean {
    return this.#kept.has(clientId) || this.#subscriptions.has(clientId)
  }

  /** max_offline_messages changed at run time (-1 unlimited, 0 none). */
  /**
   * A client's own max_offline_messages (an auth plugin's at its last CONNECT,
   * kept while its session is offline); undefined goes back to the node's.
   */
  setClientMaxOffline (clientId: string, limit: number | undefined): void {
    if (limit === undefined) this.#clientMaxOffline.delete(clientId)
    else this.#clientMaxOffline.set(clientId, limit)
  }

  /** A client's own queue_type (lifo or not; undefined: the node's), kept like setClientMaxOffline's limit. */
  setClientLifo (clientId: string, lifo: boolean | undefined): void {
    if (lifo === undefined) this.#clientLifo.delete(clientId)
    else this.#clientLifo.set(clientId, lifo)
  }

  setMaxOfflineMessages (limit: number): void {
    this.#maxOffline = limit
  }

  /** queue_type: lifo makes a full offline queue drop its oldest message instead of the new one. */
  setLifo (lifo: boolean): void {
    this.#lifo = lifo
  }

  // ---- aedes persistence interface ----

  get broker (): BrokerLike | undefined {
    return this.#broker
  }

  async setup (broker: BrokerLike): Promise<void> {
    this.#broker = broker
    broker.on?.('subscribe', (subs, client) => this.#afterSubscribe(subs, client))
  }

  /** Write-behind, like outgoingEnqueueCombi (see there). */
  async storeRetained (packet: PacketLike): Promise<void> {
    const topic = String(packet.topic)
    const key = retainedKey(topic)
    if (payloadLength(packet.payload) === 0) {
      this.#retained.delete(topic)
      this.#writeBehind([{ type: 'del', key }])
    } else {
      this.#retained.add(topic)
      this.#writeBehind([{ type: 'put', key, value: encodeValue(packet) }])
    }
  }

  createRetainedStream (pattern: string): Readable {
    return Readable.from(this.#retainedMatching([pattern]))
  }

  createRetainedStreamCombi (patterns: string[]): Readable {
    return Readable.from(this.#retainedMatching(patterns))
  }

  /**
   * aedes 2.0.0-beta.1 hands over the whole SUBSCRIBE packet once per granted
   * filter, refused filters included (they are settled after the SUBACK, see
   * #afterSubscribe). A filter already marked with a failure code is skipped.
   */
  async addSubscriptions (client: ClientLike, subs: SubscriptionLike[]): Promise<void> {
    const ops: WriteOp[] = []
    for (const sub of subs) {
      if (typeof sub.qos === 'number' && sub.qos >= FIRST_FAILURE_QOS) continue
      const record: SubscriptionRecord = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl }
      if (sub.subscriptionIdentifier !== undefined) record.subscriptionIdentifier = sub.subscriptionIdentifier
      const previous = this.#remember(client.id, sub.topic, record)
      if (previous === undefined || !sameRecord(previous, record)) {
        ops.push({ type: 'put', key: subscriptionKey(client.id, sub.topic), value: encodeValue(record) })
      }
    }
    await this.#write(ops)
  }

  async removeSubscriptions (client: ClientLike, topics: string[]): Promise<void> {
    const stored = this.#subscriptions.get(client.id)
    if (stored === undefined) return
    const ops: WriteOp[] = []
    for (const topic of topics) {
      const record = stored.get(topic)
      if (record === undefined) continue
      if (record.qos > 0) this.#index.remove(topic, client.id)
      stored.delete(topic)
      ops.push({ type: 'del', key: subscriptionKey(client.id, topic) })
    }
    if (stored.size === 0) this.#subscriptions.delete(client.id)
    await this.#write(ops)
  }

  /** aedes calls this when a persistent session resumes: it starts a delivery session. */
  async subscriptionsByClient (client: ClientLike): Promise<Array<SubscriptionLike>> {
    this.#sessions.set(client.id, ++this.#lastSession)
    const stored = this.#subscriptions.get(client.id)
    if (stored === undefined) return []
    return [...stored].map(([topic, record]) => ({ topic, ...record }))
  }

  async countOffline (): Promise<{ subsCount: number, clientsCount: number }> {
    return { subsCount: this.#index.count, clientsCount: this.#subscriptions.size }
  }

  async subscriptionsByTopic (topic: string): Promise<readonly TopicMatch[]> {
    return this.#index.match(topic)
  }

  /**
   * aedes calls this when a client connects with a clean session/clean start
   * (and when a v5 session ends). Besides the subscriptions it drops the
   * client's incoming QoS 2 state: aedes 2.0.0-beta.1 would otherwise take a
   * new session's PUBLISH that reuses a packet id left unreleased by the old
   * session for a duplicate, answer PUBREC/PUBCOMP and never deliver it.
   */
  async cleanSubscriptions (client: ClientLike): Promise<void> {
    this.#sessions.delete(client.id)
    const stored = this.#subscriptions.get(client.id)
    const ops: WriteOp[] = this.#cleanIncomingOps(client.id)
    if (this.#kept.delete(client.id)) ops.push({ type: 'del', key: sessionKey(client.id) })
    if (stored !== undefined) {
      for (const [topic, record] of stored) {
        if (record.qos > 0) this.#index.remove(topic, client.id)
        ops.push({ type: 'del', key: subscriptionKey(client.id, topic) })
      }
      this.#subscriptions.delete(client.id)
    }
    await this.#write(ops)
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
  async outgoingEnqueueCombi (subs: Array<{ clientId: string }>, packet: PacketLike): Promise<void> {
    const ops: WriteOp[] = []
    const journaled = this.#journaled.get(packet.payload as Buffer)
    if (journaled !== undefined) {
      this.#journaled.delete(packet.payload as Buffer)
      ops.push({ type: 'del', key: journaled })
    }
    if (subs === undefined || subs.length === 0) {
      this.#writeBehind(ops)
      return
    }
    const value = encodeQueued(queuedCopy(packet))
    const seq = ++this.#lastSeq
    const queued: QueuedRef[] = []
    const owners: string[] = []
    const sharedBy: string[] = []
    const clients = this.#broker?.clients
    for (const { clientId } of subs) {
      const unindexed = this.#unindexed.get(clientId)
      // a second copy for one client (overlapping subscriptions) is its own record
      const own = unindexed?.[unindexed.length - 1] === seq || this.#queues.get(clientId)?.entries.has(seq) === true
      const online = clients !== undefined && Object.hasOwn(clients, clientId)
      const max = this.#maxOfflineOf(clientId)
      if (!online && max >= 0 && this.queueLength(clientId) >= max && !this.#makeRoom(clientId, max, ops)) continue
      if (own) {
        const ref = this.#queue(clientId).append(++this.#lastSeq, packet.brokerId, packet.brokerCounter || 0, undefined)
        queued.push(ref)
        owners.push(clientId)
        if (online) ref.stored = value
        ops.push({ type: 'put', key: outgoingKey(clientId, ref.seq), value })
      } else {
        // indexed when the client's queue is next used (#indexed; #makeRoom may have used it)
        const later = this.#unindexed.get(clientId)
        if (later === undefined) this.#unindexed.set(clientId, [seq])
        else later.push(seq)
        sharedBy.push(clientId)
      }
    }
    if (sharedBy.length > 0) ops.push(this.#shared.added(seq, sharedBy, value, packet.brokerId, packet.brokerCounter || 0))
    this.#writeBehind(ops, () => {
      queued.forEach((ref, i) => { this.#unqueue(owners[i], ref) })
      for (const clientId of sharedBy) this.#dropUnwritten(clientId, seq)
    })
  }

  /**
   * A queued PUBLISH got its packet id (it is being sent), or a PUBLISH became
   * a PUBREL. A PUBLISH that was never queued here is queued now: aedes sends
   * it to a persistent session and its PUBACK must find it (this happens for
   * messages emitted straight on the mq, e.g. from a cluster peer, and for a
   * message published while the session was still connecting and its queue full).
   */
  async outgoingUpdate (client: ClientLike, packet: PacketLike): Promise<void> {
    const clientId = client.id
    const messageId = typeof packet.messageId === 'number' ? packet.messageId : undefined
    const isPublish = (packet.cmd ?? 'publish') === 'publish'
    if (isPublish && packet.brokerId !== undefined) {
      const queue = this.#queue(clientId)
      let ref = queue.findByOrigin(packet.brokerId, packet.brokerCounter ?? 0, messageId)
      if (ref === undefined) {
        ref = queue.append(++this.#lastSeq, packet.brokerId, packet.brokerCounter ?? 0, messageId)
        this.#log('debug', `queued message ${packet.brokerId}:${packet.brokerCounter} for ${clientId} on send`)
      } else if (messageId !== undefined) {
        queue.setMessageId(ref, messageId)
      }
      ref.sentIn = this.#sessions.get(clientId) ?? 0
      // QoS 1: the packet id is written DEFERRED_WRITE_MS later unless the PUBACK
      // comes first (then nothing is written for it). A crash before it is on
      // disk resends the message under a new id, which QoS 1 allows. QoS 2
      // waits: a PUBLISH resent under another id would be a second message.
      if (packet.qos === 1) {
        this.#deferSentId(ref, clientId, packet)
        return
      }
      this.#sentIds.delete(ref)
      await this.#write([this.#sentCopy(ref, clientId, packet)])
      return
    }
    const queue = this.#indexed(clientId)
    const ref = messageId !== undefined ? queue?.findByMessageId(messageId) : undefined
    if (queue === undefined || ref === undefined) throw new Error('no such packet')
    queue.forgetOrigin(ref)
    this.#sentIds.delete(ref)
    ref.own = true
    const ops: WriteOp[] = [{ type: 'put', key: outgoingKey(clientId, ref.seq), value: encodeQueued(packet) }]
    // the client has the PUBLISH: done with the shared message in the same write
    if (ref.shared) {
      ref.shared = false
      this.#shared.removed(clientId, ref.seq, queue.firstSeq() ?? ref.seq, ops)
      this.#deferWrites()
    }
    await this.#write(ops)
  }

  async outgoingClearMessageId (client: ClientLike, packet: PacketLike | undefined): Promise<Stored | undefined> {
    const clientId = client.id
    const queue = this.#indexed(clientId)
    if (queue === undefined) return undefined
    const ref = findToClear(queue, packet)
    if (ref === undefined) return undefined
    const key = this.#copyKey(clientId, ref)
    const ops: WriteOp[] = []
    this.#removeCopy(clientId, ref, ops)
    const value = await this.#read(key)
    await this.#write(ops)
    return value !== undefined ? this.#decodeCopy(value, ref) : undefined
  }

  /**
   * Deletes the copy a PUBACK or PUBCOMP acknowledged, written behind and
   * without reading it back (outgoingClearMessageId returns it): a crash
   * before the delete is on disk sends it again, as QoS 1 and 2 allow.
   */
  clearAcked (clientId: string, messageId: number): void {
    const ref = this.#indexed(clientId)?.findByMessageId(messageId)
    if (ref === undefined) return
    const ops: WriteOp[] = []
    this.#removeCopy(clientId, ref, ops)
    this.#writeBehind(ops)
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
    const queue = this.#indexed(client.id)
    const everything = client.clean === true || client._cleanStart === true
    const session = this.#sessions.get(client.id)
    const seqs: number[] = []
    for (const ref of queue?.entries.values() ?? []) {
      if (everything || ref.sentIn !== session) seqs.push(ref.seq)
    }
    return this.#queuedPackets(client.id, seqs, everything ? undefined : session) as AsyncIterable<StoredPacket>
  }

  /** Deletes the queued copy of a message (by its origin) that the client's session will not deliver. */
  async dropQueued (clientId: string, brokerId: string, brokerCounter: number): Promise<void> {
    const ref = this.#indexed(clientId)?.findByOrigin(brokerId, brokerCounter)
    if (ref === undefined) return
    const ops: WriteOp[] = []
    this.#removeCopy(clientId, ref, ops)
    await this.#write(ops)
  }

  /**
   * Removes a client's whole stored queue and returns it, oldest first, with one
   * delete: its session moves to another node. What it holds is taken at once,
   * so a message queued meanwhile stays (and is not deleted unread).
   */
  async takeQueue (clientId: string): Promise<StoredPacket[]> {
    const queue = this.#indexed(clientId)
    if (queue === undefined) return []
    const refs = [...queue.entries.values()]
    const keys = refs.map(ref => this.#copyKey(clientId, ref))
    const ops: WriteOp[] = []
    for (const ref of refs) this.#removeCopy(clientId, ref, ops)
    const packets: StoredPacket[] = []
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      const values = await this.#readMany(keys.slice(i, i + READ_CHUNK))
      values.forEach((value, j) => { if (value !== undefined) packets.push(this.#decodeCopy(value, refs[i + j]) as StoredPacket) })
    }
    await this.#write(ops)
    return packets
  }

  async incomingStorePacket (client: ClientLike, packet: PacketLike): Promise<void> {
    const messageId = Number(packet.messageId)
    const copy = queuedCopy(packet)
    copy.messageId = packet.messageId
    this.#incomingIds(client.id).add(messageId)
    await this.#write([{ type: 'put', key: incomingKey(client.id, messageId), value: encodeValue(copy) }])
  }

  async incomingGetPacket (client: ClientLike, packet: PacketLike): Promise<Stored> {
    const messageId = Number(packet.messageId)
    const value = this.#incoming.get(client.id)?.has(messageId) === true
      ? await this.#read(incomingKey(client.id, messageId))
      : undefined
    if (value === undefined) throw new Error('no such packet')
    return decodeValue(value)
  }

  async incomingDelPacket (client: ClientLike, packet: PacketLike): Promise<void> {
    const messageId = Number(packet.messageId)
    const ids = this.#incoming.get(client.id)
    if (ids?.delete(messageId) !== true) throw new Error('no such packet')
    if (ids.size === 0) this.#incoming.delete(client.id)
    await this.#write([{ type: 'del', key: incomingKey(client.id, messageId) }])
  }

  async putWill (client: ClientLike, packet: PacketLike): Promise<void> {
    packet.brokerId = this.#broker?.id
    packet.clientId = client.id
    this.#wills.add(client.id)
    await this.#write([{ type: 'put', key: willKey(client.id), value: encodeValue(packet) }])
  }

  async getWill (client: ClientLike): Promise<Stored | undefined> {
    if (!this.#wills.has(client.id)) return undefined
    const value = await this.#read(willKey(client.id))
    return value !== undefined ? decodeValue(value) : undefined
  }

  async delWill (client: ClientLike): Promise<Stored | undefined> {
    if (!this.#wills.has(client.id)) return undefined
    this.#wills.delete(client.id)
    const key = willKey(client.id)
    const value = await this.#read(key)
    await this.#write([{ type: 'del', key }])
    return value !== undefined ? decodeValue(value) : undefined
  }

  /** Wills of clients whose broker is not in `brokers` (brokerId -> last heartbeat). */
  streamWill (brokers: Record<string, unknown> = {}): Readable {
    const keys = [...this.#wills].map(willKey)
    return Readable.from(this.#valuesOf(keys, will => !brokers[String(will.brokerId)]))
  }

  /** Client ids holding a persistent subscription to exactly `topic`. */
  getClientList (topic: string): Readable {
    const ids: string[] = []
    for (const [clientId, stored] of this.#subscriptions) {
      if (stored.has(topic)) ids.push(clientId)
    }
    return Readable.from(ids)
  }

  async destroy (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#writeCheck)
    this.#writeDeferred()
    await this.#batcher.drain()
    await this.#db.close()
  }

  // ---- for the node ----

  #startWriteChecks (): void {
    if (this.#writeCheck !== undefined || this.#closed) return
    this.#writeCheck = setInterval(() => { void this.#checkWrites() }, WRITE_CHECK_INTERVAL_MS)
    this.#writeCheck.unref()
  }

  /**
   * Ends the no-writes state once the data dir takes writes again. Writes
   * refused meanwhile changed memory but not the disk (a subscription added,
   * a message acknowledged), so the disk is brought in line with memory first.
   */
  async #checkWrites (): Promise<void> {
    if (this.#checking || this.#closed) return
    this.#checking = true
    try {
      await checkWritable(this.#db, this.path)
      const onDisk = await this.#storedKeys()
      if (this.#closed) return
      clearInterval(this.#writeCheck)
      this.#writeCheck = undefined
      const ops = this.#alignWithMemory(onDisk)
      this.#batcher.resume()
      this.#log('info', `store ${this.path}: a test write succeeded; the store takes writes and new persistent sessions again ` +
        `(records brought in line with memory: ${ops.length})`)
      // a failure is logged by the batcher and starts the checks again
      this.#write(ops).catch(() => undefined)
    } catch (err) {
      this.#log('debug', `store ${this.path}: still takes no writes: ${(err as Error).message}`)
    } finally {
      this.#checking = false
    }
  }

  /** The keys of what memory indexes, and the stored subscriptions' values. */
  async #storedKeys (): Promise<{ keys: Set<string>, subscriptions: Map<string, Buffer> }> {
    const keys = new Set<string>()
    const subscriptions = new Map<string, Buffer>()
    await this.#scan('s', true, (key, value) => { subscriptions.set(key, value as Buffer) })
    for (const kind of ['p', 'o', 'i', 'r', 'w']) await this.#scan(kind, false, key => { keys.add(key) })
    return { keys, subscriptions }
  }

  /**
   * Writes what memory holds and the disk lacks (subscriptions, session
   * markers) and deletes what the disk holds and memory dropped. A message,
   * retained message, will or QoS 2 state that memory lists but the disk never
   * got is gone: memory forgets it too.
   */
  #alignWithMemory (disk: { keys: Set<string>, subscriptions: Map<string, Buffer> }): WriteOp[] {
    const ops: WriteOp[] = []
    const kept = new Set<string>()
    for (const [clientId, stored] of this.#subscriptions) {
      for (const [topic, record] of stored) {
        const key = subscriptionKey(clientId, topic)
        kept.add(key)
        const value = disk.subscriptions.get(key)
        if (value === undefined || !sameRecord(decodeValue(value) as unknown as SubscriptionRecord, record)) {
          ops.push({ type: 'put', key, value: encodeValue(record) })
        }
      }
    }
    for (const clientId of this.#kept) {
      const key = sessionKey(clientId)
      kept.add(key)
      if (!disk.keys.has(key)) ops.push({ type: 'put', key, value: EMPTY_VALUE })
    }
    const keepIfStored = (key: string, forget: () => void): void => {
      if (disk.keys.has(key)) kept.add(key)
      else forget()
    }
    for (const [clientId, queue] of this.#queues) {
      for (const ref of [...queue.entries.values()]) keepIfStored(outgoingKey(clientId, ref.seq), () => { this.#unqueue(clientId, ref) })
    }
    for (const [clientId, ids] of this.#incoming) {
      for (const id of [...ids]) keepIfStored(incomingKey(clientId, id), () => ids.delete(id))
      if (ids.size === 0) this.#incoming.delete(clientId)
    }
    for (const topic of [...this.#retained]) keepIfStored(retainedKey(topic), () => this.#retained.delete(topic))
    for (const clientId of [...this.#wills]) keepIfStored(willKey(clientId), () => this.#wills.delete(clientId))
    for (const key of [...disk.keys, ...disk.subscriptions.keys()]) {
      if (!kept.has(key)) ops.push({ type: 'del', key })
    }
    return ops
  }

  /**
   * Resolves when everything stored so far is in LevelDB. Queued and retained
   * messages are written behind (see outgoingEnqueueCombi); wire aedes'
   * `published` hook to wait for this before QoS 2 PUBLISHes are acknowledged
   * (aedes sends PUBREC after `published` calls back). Rejects if a write failed.
   */
  async flushed (): Promise<void> {
    this.#writeDeferred()
    await this.#batcher.flushed()
  }

  /**
   * Drops a client's incoming QoS 2 state. cleanSubscriptions already does it
   * on a clean-session connect; call this when a clean v3/v4 session
   * disconnects, so ids of clients that never come back leave nothing behind.
   */
  async cleanIncoming (clientId: string): Promise<void> {
    await this.#write(this.#cleanIncomingOps(clientId))
  }

  /** Messages queued (waiting or in flight) for one client. */
  queueLength (clientId: string): number {
    return (this.#queues.get(clientId)?.size ?? 0) + (this.#unindexed.get(clientId)?.length ?? 0)
  }

  get offlineDropped (): number {
    return this.#offlineDropped
  }

  stats (): StoreStats {
    let queued = 0
    for (const queue of this.#queues.values()) queued += queue.size
    let clients = this.#queues.size
    for (const [clientId, unindexed] of this.#unindexed) {
      queued += unindexed.length
      if (!this.#queues.has(clientId)) clients++
    }
    return {
      offlineDropped: this.#offlineDropped,
      queuedMessages: queued,
      clientsWithQueue: clients,
      retainedMessages: this.#retained.size,
      subscriptions: this.#index.count,
      clientsWithSubscriptions: this.#subscriptions.size
    }
  }

  // ---- internals ----

  /**
   * After the SUBACK aedes has set each filter's qos to what was granted: a
   * refused filter (>= 0x80) must not stay persisted, or messages for it would
   * be queued while the client is offline and delivered when it reconnects.
   * A filter refused again while an earlier grant is live keeps the live one.
   */
  #afterSubscribe (subs: SubscriptionLike[], client: SubscribingClient): void {
    const stored = this.#subscriptions.get(client.id)
    if (client.clean !== false || stored === undefined) return
    const ops: WriteOp[] = []
    for (const sub of subs) {
      const record = stored.get(sub.topic)
      if (record === undefined) continue
      let settled: SubscriptionRecord | undefined
      if (sub.qos < FIRST_FAILURE_QOS) {
        settled = { ...record, qos: sub.qos }
      } else {
        const live = client.subscriptions?.[sub.topic]
        if (live !== undefined) {
          settled = { qos: live.qos, rh: live.rh, rap: live.rap, nl: live.nl }
          if (live.si !== undefined) settled.subscriptionIdentifier = live.si
        }
      }
      if (settled === undefined) {
        if (record.qos > 0) this.#index.remove(sub.topic, client.id)
        stored.delete(sub.topic)
        ops.push({ type: 'del', key: subscriptionKey(client.id, sub.topic) })
      } else if (!sameRecord(record, settled)) {
        this.#remember(client.id, sub.topic, settled)
        ops.push({ type: 'put', key: subscriptionKey(client.id, sub.topic), value: encodeValue(settled) })
      }
    }
    if (stored.size === 0) this.#subscriptions.delete(client.id)
    this.#write(ops).catch(() => {})
  }

  #remember (clientId: string, topic: string, record: SubscriptionRecord): SubscriptionRecord | undefined {
    let stored = this.#subscriptions.get(clientId)
    if (stored === undefined) {
      stored = new Map()
      this.#subscriptions.set(clientId, stored)
    }
    const previous = stored.get(topic)
    stored.set(topic, record)
    if (record.qos > 0) this.#index.add(topic, clientId, record)
    else if (previous !== undefined && previous.qos > 0) this.#index.remove(topic, clientId)
    return previous
  }

  #queue (clientId: string): ClientQueue {
    let queue = this.#indexed(clientId)
    if (queue === undefined) {
      queue = new ClientQueue()
      this.#queues.set(clientId, queue)
    }
    return queue
  }

  #incomingIds (clientId: string): Set<number> {
    let ids = this.#incoming.get(clientId)
    if (ids === undefined) {
      ids = new Set()
      this.#incoming.set(clientId, ids)
    }
    return ids
  }

  #cleanIncomingOps (clientId: string): WriteOp[] {
    const ids = this.#incoming.get(clientId)
    if (ids === undefined) return []
    this.#incoming.delete(clientId)
    return [...ids].map(id => ({ type: 'del', key: incomingKey(clientId, id) }))
  }

  /**
   * An offline client's queue is at its max_offline_messages (`max`): the new
   * copy is dropped (false), or with queue_type = lifo the oldest (its delete joins `ops`).
   */
  #makeRoom (clientId: string, max: number, ops: WriteOp[]): boolean {
    this.#offlineDropped++
    if (!this.#lifoOf(clientId) || max === 0) return false
    const oldest = this.#indexed(clientId)?.entries.values().next().value
    if (oldest === undefined) return false
    this.#removeCopy(clientId, oldest, ops)
    return true
  }

  /**
   * The client's queue index, with the shared copies queued since it was last
   * used added: queueing a message for many offline clients only notes its
   * seq per client. Every use of a queue goes through here (or #queue).
   */
  #indexed (clientId: string): ClientQueue | undefined {
    const unindexed = this.#unindexed.get(clientId)
    if (unindexed === undefined) return this.#queues.get(clientId)
    this.#unindexed.delete(clientId)
    let queue = this.#queues.get(clientId)
    if (queue === undefined) {
      queue = new ClientQueue()
      this.#queues.set(clientId, queue)
    }
    for (const seq of unindexed) {
      const origin = this.#shared.origin(seq)
      const ref = queue.append(seq, origin?.brokerId, origin?.brokerCounter, undefined)
      ref.own = false
      ref.shared = true
    }
    return queue
  }

  /** max_offline_messages for this client: its own (auth_on_register) or the node's */
  #maxOfflineOf (clientId: string): number {
    return this.#clientMaxOffline.size === 0 ? this.#maxOffline : this.#clientMaxOffline.get(clientId) ?? this.#maxOffline
  }

  #lifoOf (clientId: string): boolean {
    return this.#clientLifo.size === 0 ? this.#lifo : this.#clientLifo.get(clientId) ?? this.#lifo
  }

  /** Undoes the queueing of a shared copy whose write failed. */
  #dropUnwritten (clientId: string, seq: number): void {
    const unindexed = this.#unindexed.get(clientId)
    const at = unindexed?.lastIndexOf(seq) ?? -1
    if (unindexed !== undefined && at >= 0) {
      unindexed.splice(at, 1)
      if (unindexed.length === 0) this.#unindexed.delete(clientId)
      return
    }
    const ref = this.#queues.get(clientId)?.entries.get(seq)
    if (ref !== undefined) this.#unqueue(clientId, ref)
  }

  /** Takes a copy out of the client's queue; its deletes join `ops`. */
  #removeCopy (clientId: string, ref: QueuedRef, ops: WriteOp[]): void {
    this.#sentIds.delete(ref)
    this.#unqueue(clientId, ref)
    if (ref.own) ops.push({ type: 'del', key: outgoingKey(clientId, ref.seq) })
    // the client's oldest copy now; with none, what it had up to this one is gone
    if (ref.shared) {
      this.#shared.removed(clientId, ref.seq, this.#queues.get(clientId)?.firstSeq() ?? ref.seq + 1, ops)
      this.#deferWrites()
    }
  }

  #deferSentId (ref: QueuedRef, clientId: string, packet: PacketLike): void {
    this.#sentIds.set(ref, { clientId, packet })
    this.#deferWrites()
  }

  /** QoS 1 packet ids and watermarks are written DEFERRED_WRITE_MS later (see outgoingUpdate, shared-messages.ts). */
  #deferWrites (): void {
    this.#deferredTimer ??= setTimeout(() => { this.#writeDeferred() }, DEFERRED_WRITE_MS).unref()
  }

  #writeDeferred (): void {
    clearTimeout(this.#deferredTimer)
    this.#deferredTimer = undefined
    if (this.#sentIds.size === 0 && !this.#shared.hasDirty) return
    const ops: WriteOp[] = this.#shared.dirtyWatermarks()
    for (const [ref, { clientId, packet }] of this.#sentIds) ops.push(this.#sentCopy(ref, clientId, packet))
    this.#sentIds.clear()
    this.#batcher.writeBehind(ops)
  }

  /** The client's own record of a copy sent with a packet id: the queued copy with the id patched in, or the packet as sent. */
  #sentCopy (ref: QueuedRef, clientId: string, packet: PacketLike): WriteOp {
    const value = ref.stored !== undefined && ref.messageId !== undefined ? withMessageId(ref.stored, ref.messageId) : encodeQueued(packet)
    ref.stored = undefined
    ref.own = true
    return { type: 'put', key: outgoingKey(clientId, ref.seq), value }
  }

  /** A stored copy as the client's queue has it now: with the packet id it was last sent with. */
  #decodeCopy (value: Buffer, ref: QueuedRef): Stored {
    const packet = decodeValue(value)
    if (ref.brokerId !== undefined && ref.messageId !== undefined) packet.messageId = ref.messageId
    return packet
  }

  /**
   * A shared message for a resumed session: the sessions resuming together
   * read the same messages at the same time, so one read serves them all.
   */
  #readShared (seq: number): Promise<CachedMessage | undefined> {
    let read = this.#sharedReads.get(seq)
    if (read === undefined) {
      read = new Promise((resolve, reject) => { this.#sharedToRead.push({ seq, resolve, reject }) })
      // a reader that stopped at an earlier failure may never await it
      read.catch(() => {})
      this.#sharedReads.set(seq, read)
    }
    return read
  }

  /** Reads what #readShared was asked for, in one getMany. */
  #startSharedReads (): void {
    const wanted = this.#sharedToRead
    if (wanted.length === 0) return
    this.#sharedToRead = []
    const settle = (values: Array<Buffer | undefined>): void => {
      wanted.forEach(({ seq, resolve, reject }, i) => {
        this.#sharedReads.delete(seq)
        const value = values[i]
        if (value === undefined) return resolve(undefined)
        try {
          const message = { value, packet: decodeValue(value) }
          this.#shared.remember(seq, message)
          resolve(message)
        } catch (err) {
          reject(err as Error)
        }
      })
    }
    const fail = (err: Error): void => {
      for (const { seq, reject } of wanted) {
        this.#sharedReads.delete(seq)
        reject(err)
      }
    }
    this.#readMany(wanted.map(({ seq }) => messageKey(seq))).then(settle, fail)
  }

  /** #decodeCopy of a shared message decoded before (its fields are shared, not copied). */
  #copyOf (packet: Stored, ref: QueuedRef): Stored {
    const copy = { ...packet }
    if (ref.brokerId !== undefined && ref.messageId !== undefined) copy.messageId = ref.messageId
    return copy
  }

  /** Where a queued copy's packet is: the client's own record, else the shared message. */
  #copyKey (clientId: string, ref: QueuedRef): string {
    return ref.own ? outgoingKey(clientId, ref.seq) : messageKey(ref.seq)
  }

  #unqueue (clientId: string, ref: QueuedRef): void {
    const queue = this.#queues.get(clientId)
    if (queue === undefined) return
    queue.remove(ref)
    if (queue.size === 0) this.#queues.delete(clientId)
  }

  async #write (ops: WriteOp[]): Promise<void> {
    await this.#batcher.write(ops) // a failure is logged once, by the batcher
  }

  /** Visits every key (and value) of one kind, a batch at a time. */
  async #scan (kind: string, withValues: boolean, visit: (key: string, value: Buffer | undefined) => void): Promise<void> {
    const range = kindRange(kind)
    if (withValues) {
      const it = this.#db.iterator(range)
      try {
        for (let batch = await it.nextv(SCAN_BATCH); batch.length > 0; batch = await it.nextv(SCAN_BATCH)) {
          for (const [key, value] of batch) visitKey(visit, key, value)
        }
      } finally {
        await it.close()
      }
    } else {
      const it = this.#db.keys(range)
      try {
        for (let batch = await it.nextv(SCAN_BATCH); batch.length > 0; batch = await it.nextv(SCAN_BATCH)) {
          for (const key of batch) visitKey(visit, key, undefined)
        }
      } finally {
        await it.close()
      }
    }
  }

  #writeBehind (ops: WriteOp[], undo?: () => void): void {
    if (undo === undefined) this.#batcher.writeBehind(ops)
    else this.#write(ops).catch(undo)
  }

  async #read (key: string): Promise<Buffer | undefined> {
    const pending = this.#batcher.pendingValue(key)
    if (pending !== undefined) return pending ?? undefined
    return await this.#db.get(key)
  }

  async #readMany (keys: string[]): Promise<Array<Buffer | undefined>> {
    const values: Array<Buffer | undefined> = new Array(keys.length)
    const fromDisk: number[] = []
    keys.forEach((key, i) => {
      const pending = this.#batcher.pendingValue(key)
      if (pending === undefined) fromDisk.push(i)
      else values[i] = pending ?? undefined
    })
    if (fromDisk.length > 0) {
      const read = await this.#db.getMany(fromDisk.map(i => keys[i]))
      fromDisk.forEach((i, j) => { values[i] = read[j] })
    }
    return values
  }

  async * #valuesOf (keys: string[], keep: (value: Stored) => boolean = () => true): AsyncGenerator<Stored> {
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      const values = await this.#readMany(keys.slice(i, i + READ_CHUNK))
      for (const value of values) {
        if (value === undefined) continue
        const decoded = decodeValue(value)
        if (keep(decoded)) yield decoded
      }
    }
  }

  async * #queuedPackets (clientId: string, seqs: number[], session: number | undefined): AsyncGenerator<Stored> {
    for (let i = 0; i < seqs.length; i += READ_CHUNK) {
      const chunk = seqs.slice(i, i + READ_CHUNK)
      const queue = this.#queues.get(clientId)
      const values: Array<Buffer | undefined> = new Array(chunk.length)
      const cached: Array<CachedMessage | undefined> = new Array(chunk.length)
      const keys: string[] = []
      const reading: number[] = []
      const sharedReads: Array<{ at: number, read: Promise<CachedMessage | undefined> }> = []
      for (let j = 0; j < chunk.length; j++) {
        const ref = queue?.entries.get(chunk[j])
        if (ref !== undefined && !ref.own) {
          cached[j] = this.#shared.cached(ref.seq)
          if (cached[j] === undefined) sharedReads.push({ at: j, read: this.#readShared(ref.seq) })
          continue
        }
        keys.push(ref !== undefined ? this.#copyKey(clientId, ref) : outgoingKey(clientId, chunk[j]))
        reading.push(j)
      }
      this.#startSharedReads()
      if (keys.length > 0) {
        const read = await this.#readMany(keys)
        reading.forEach((at, k) => { values[at] = read[k] })
      }
      for (const { at, read } of sharedReads) cached[at] = await read
      for (let j = 0; j < chunk.length; j++) {
        const value = cached[j]?.value ?? values[j]
        const ref = this.#queues.get(clientId)?.entries.get(chunk[j])
        // skip what was acknowledged, or sent live, since the stream started
        if (value === undefined || ref === undefined || (session !== undefined && ref.sentIn === session)) continue
        if (ref.brokerId !== undefined) ref.stored = queuedPart(value)
        const packet = cached[j]?.packet
        yield packet !== undefined ? this.#copyOf(packet, ref) : this.#decodeCopy(value, ref)
      }
    }
  }

  async * #retainedMatching (patterns: string[]): AsyncGenerator<Stored> {
    for (const pattern of patterns) {
      const topics = hasWildcard(pattern)
        ? [...this.#retained].filter(topic => filterMatches(pattern, topic))
        : this.#retained.has(pattern) ? [pattern] : []
      yield * this.#valuesOf(topics.map(retainedKey))
    }
  }
}

function visitKey (visit: (key: string, value: Buffer | undefined) => void, key: string, value: Buffer | undefined): void {
  try {
    visit(key, value)
  } catch (err) {
    throw new Error(`key ${JSON.stringify(key)}: ${(err as Error).message}`)
  }
}

/** The copy aedes' memory store queues (aedes-packet's shape, without a broker). */
function queuedCopy (packet: PacketLike): Stored {
  const copy: Stored = {}
  for (const field of ['clientId', 'nl', 'properties', 'messageExpiry']) {
    if (Object.hasOwn(packet, field)) copy[field] = packet[field]
  }
  const cmd = packet.cmd || 'publish'
  const qos = packet.qos || 0
  copy.cmd = cmd
  copy.brokerId = packet.brokerId
  copy.brokerCounter = packet.brokerCounter || 0
  copy.topic = packet.topic
  copy.payload = packet.payload || Buffer.alloc(0)
  copy.qos = qos
  copy.retain = packet.retain || false
  copy.dup = packet.dup || false
  if (qos > 0 || cmd !== 'publish') copy.messageId = undefined
  return copy
}

/**
 * A journaled message's MQTT 5 properties, and the absolute expiry aedes would
 * give it (aedes' `messageExpiry`), so its lifetime keeps counting down across
 * a restart.
 */
function addProperties (record: Stored, properties: { messageExpiryInterval?: number }): void {
  record.properties = properties
  const interval = properties.messageExpiryInterval
  if (interval !== undefined && interval > 0) record.messageExpiry = Date.now() + interval * 1000
}

/** What aedes means by a clear: by packet id; by origin when it has none yet; else the oldest unsent. */
function findToClear (queue: ClientQueue, packet: PacketLike | undefined): QueuedRef | undefined {
  if (typeof packet?.messageId === 'number') return queue.findByMessageId(packet.messageId)
  if (typeof packet?.brokerId === 'string' && typeof packet.brokerCounter === 'number') {
    return queue.findUnsentByOrigin(packet.brokerId, packet.brokerCounter)
  }
  return queue.firstUnsent()
}

function sameRecord (a: SubscriptionRecord, b: SubscriptionRecord): boolean {
  return a.qos === b.qos && a.rh === b.rh && a.rap === b.rap && a.nl === b.nl &&
    a.subscriptionIdentifier === b.subscriptionIdentifier
}

function payloadLength (payload: unknown): number {
  if (payload === undefined || payload === null) return 0
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload.length
  return String(payload).length
}

function hasWildcard (pattern: string): boolean {
  return pattern.includes('+') || pattern.includes('#')
}
