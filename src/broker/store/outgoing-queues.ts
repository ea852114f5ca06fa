// The offline queues and in-flight outgoing messages of persistent sessions.
// Each client's queue index is in memory (outgoing-index.ts); the packets are
// on disk: a message queued for several clients once (shared-messages.ts, q
// keys), a client's own copy (o keys) when it was sent with a packet id that
// is written, became a PUBREL, or is a second copy for the same client.
import type { StoredPacket } from './persistence.js'
import { decodeQueuedMeta, decodeValue, encodeQueued, encodeQueuedFrom, queuedPart, sharedRecipients, withMessageId, type QueuedMeta, type Stored } from './codec.js'
import { messageKey, outgoingKey, parseClientKey, seqOfOutgoingKey } from './keys.js'
import { ClientQueue, type QueuedRef } from './outgoing-index.js'
import { isQueuedAs, Prequeued, type PrequeuedMessage } from './prequeued.js'
import type { QueueLimits } from './queue-limits.js'
import { queuedCopy } from './queued-copy.js'
import { SharedMessages, type CachedMessage } from './shared-messages.js'
import { SharedReads } from './shared-reads.js'
import { READ_CHUNK, type StoreIo } from './store-io.js'
import type { ClientLike, PacketLike, StoreLogLevel } from './store-types.js'
import type { TopicMatch } from './topic-index.js'
import type { WriteOp } from './write-batcher.js'

/** how long a QoS 1 packet id waits for its PUBACK, and a moved watermark, before it is written */
const DEFERRED_WRITE_MS = 1000

export class OutgoingQueues {
  readonly #io: StoreIo
  readonly #limits: QueueLimits
  readonly #log: (level: StoreLogLevel, msg: string) => void
  readonly #queues = new Map<string, ClientQueue>()
  /** client id -> seqs of shared copies queued since its queue was last used (see #indexed) */
  readonly #unindexed = new Map<string, number[]>()
  #lastSeq = 0
  /** the highest seq in a queue: a prequeued message keeps its seq only above it (queues are in seq order) */
  #lastQueued = 0
  readonly #prequeued = new Prequeued()
  /** QoS 1 packet ids given out and not yet written (see update) */
  readonly #sentIds = new Map<QueuedRef, { clientId: string, packet: PacketLike }>()
  #deferredTimer: NodeJS.Timeout | undefined
  readonly #shared = new SharedMessages()
  readonly #sharedReads: SharedReads
  /** client id -> number of its current delivery session (a resumed persistent session) */
  readonly #sessions = new Map<string, number>()
  #lastSession = 0
  #offlineDropped = 0
  #closed = false

  constructor (io: StoreIo, limits: QueueLimits, log: (level: StoreLogLevel, msg: string) => void) {
    this.#io = io
    this.#limits = limits
    this.#log = log
    this.#sharedReads = new SharedReads(io, this.#shared)
  }

  /** The queues: each client's own copies (o) and its copies of shared messages (q), in seq order. */
  async load (): Promise<void> {
    const copies = new Map<string, Array<{ seq: number, meta: QueuedMeta, own: boolean }>>()
    const add = (clientId: string, seq: number, meta: QueuedMeta, own: boolean): void => {
      const list = copies.get(clientId)
      if (list === undefined) copies.set(clientId, [{ seq, meta, own }])
      else list.push({ seq, meta, own })
      if (seq > this.#lastSeq) this.#lastSeq = seq
    }
    await this.#io.scan('o', true, (key, value) => {
      const { clientId, rest } = parseClientKey(key)
      add(clientId, seqOfOutgoingKey(rest), decodeQueuedMeta(value as Buffer), true)
    })
    await this.#io.scan('a', true, (key, value) => this.#shared.loadWatermark(key.slice(1), value as Buffer))
    await this.#io.scan('x', false, key => {
      const { clientId, rest } = parseClientKey(key)
      this.#shared.loadRemoved(clientId, seqOfOutgoingKey(rest))
    })
    const ops: WriteOp[] = []
    await this.#io.scan('q', true, (key, value) => {
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
    this.#lastQueued = this.#lastSeq
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
    await this.#io.write(ops)
  }

  /** A persistent session resumes: a new delivery session starts (see queued). */
  startSession (clientId: string): void {
    this.#sessions.set(clientId, ++this.#lastSession)
  }

  endSession (clientId: string): void {
    this.#sessions.delete(clientId)
  }

  /** Whether the message with this payload was prequeued (and not queued yet). */
  isPrequeued (payload: Buffer): boolean {
    return this.#prequeued.has(payload)
  }

  /**
   * The record of an accepted message to write before it is acknowledged,
   * naming the clients of `matches` (see prequeued.ts); undefined when it needs
   * a journal entry instead.
   */
  prequeue (packet: PacketLike, matches: readonly TopicMatch[]): WriteOp | undefined {
    const op = this.#prequeued.record(packet, matches, this.#lastSeq + 1)
    if (op !== undefined) this.#lastSeq++
    return op
  }

  /**
   * Write-behind (see LevelPersistence.outgoingEnqueueCombi); `ops` holds what
   * must be written with the copies (the message's journal entry delete),
   * `journaled` the journal entry when it is the queued packet without its
   * origin (Journal.queued). `clients`: aedes' connected clients.
   */
  enqueue (subs: ReadonlyArray<{ clientId: string }>, packet: PacketLike, clients: Record<string, unknown> | undefined, ops: WriteOp[], journaled?: Buffer): void {
    const prequeued = this.#prequeued.take(packet)
    if (subs === undefined || subs.length === 0) {
      if (prequeued !== undefined) ops.push({ type: 'del', key: messageKey(prequeued.seq) })
      this.#io.writeBehind(ops)
      return
    }
    const asPrequeued = prequeued !== undefined && isQueuedAs(packet, prequeued)
    const body = asPrequeued ? prequeued.body : journaled
    // encoded when written: a prequeued message queued as its record says is not
    let encoded: Buffer | undefined
    const value = (): Buffer => {
      encoded ??= (body !== undefined ? encodeQueuedFrom(body, packet.brokerId as string, packet.brokerCounter || 0) : undefined) ??
        encodeQueued(queuedCopy(packet))
      return encoded
    }
    // a prequeued message keeps its seq (and record) unless a later one was queued first
    const keepsSeq = prequeued !== undefined && prequeued.seq > this.#lastQueued
    if (prequeued !== undefined && !keepsSeq) ops.push({ type: 'del', key: messageKey(prequeued.seq) })
    const seq = keepsSeq ? prequeued.seq : ++this.#lastSeq
    if (seq > this.#lastQueued) this.#lastQueued = seq
    const queued: QueuedRef[] = []
    const owners: string[] = []
    const sharedBy: string[] = []
    for (const { clientId } of subs) {
      let unindexed = this.#unindexed.get(clientId)
      const queue = this.#queues.get(clientId)
      // a second copy for one client (overlapping subscriptions) is its own record
      const own = unindexed?.[unindexed.length - 1] === seq || queue?.entries.has(seq) === true
      const max = this.#limits.maxOfflineOf(clientId)
      // whether the client is online is asked only at its limit (a hash lookup per copy less)
      const full = max >= 0 && (queue?.size ?? 0) + (unindexed?.length ?? 0) >= max
      const online = clients !== undefined && (full || own) && Object.hasOwn(clients, clientId)
      if (full && !online) {
        if (!this.#makeRoom(clientId, max, ops)) continue
        // #makeRoom used the queue: its unindexed copies are indexed now
        unindexed = this.#unindexed.get(clientId)
      }
      if (own) {
        const ref = this.#queue(clientId).append(++this.#lastSeq, packet.brokerId, packet.brokerCounter || 0, undefined)
        this.#lastQueued = ref.seq
        queued.push(ref)
        owners.push(clientId)
        if (online) ref.stored = value()
        ops.push({ type: 'put', key: outgoingKey(clientId, ref.seq), value: value() })
      } else {
        // indexed when the client's queue is next used (#indexed)
        if (unindexed === undefined) this.#unindexed.set(clientId, [seq])
        else unindexed.push(seq)
        sharedBy.push(clientId)
      }
    }
    if (sharedBy.length > 0) {
      this.#shared.added(seq, sharedBy, packet.brokerId, packet.brokerCounter || 0)
      if (!(keepsSeq && asPrequeued && isRecordFor(prequeued, subs, sharedBy))) ops.push(this.#shared.recordOf(seq, sharedBy, value()))
    } else if (keepsSeq) {
      ops.push({ type: 'del', key: messageKey(seq) })
    }
    if (ops.length === 0) return
    this.#io.writeBehind(ops, () => {
      queued.forEach((ref, i) => { this.#unqueue(owners[i], ref) })
      for (const clientId of sharedBy) this.#dropUnwritten(clientId, seq)
    })
  }

  /** See LevelPersistence.outgoingUpdate. */
  async update (client: ClientLike, packet: PacketLike): Promise<void> {
    const clientId = client.id
    const messageId = typeof packet.messageId === 'number' ? packet.messageId : undefined
    const isPublish = (packet.cmd ?? 'publish') === 'publish'
    if (isPublish && packet.brokerId !== undefined) {
      const queue = this.#queue(clientId)
      let ref = queue.findByOrigin(packet.brokerId, packet.brokerCounter ?? 0, messageId)
      if (ref === undefined) {
        ref = queue.append(++this.#lastSeq, packet.brokerId, packet.brokerCounter ?? 0, messageId)
        this.#lastQueued = this.#lastSeq
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
      await this.#io.write([this.#sentCopy(ref, clientId, packet)])
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
    await this.#io.write(ops)
  }

  async clearMessageId (client: ClientLike, packet: PacketLike | undefined): Promise<Stored | undefined> {
    const clientId = client.id
    const queue = this.#indexed(clientId)
    if (queue === undefined) return undefined
    const ref = findToClear(queue, packet)
    if (ref === undefined) return undefined
    const key = this.#copyKey(clientId, ref)
    const ops: WriteOp[] = []
    this.#removeCopy(clientId, ref, ops)
    const value = await this.#io.read(key)
    await this.#io.write(ops)
    return value !== undefined ? this.#decodeCopy(value, ref) : undefined
  }

  /** See LevelPersistence.clearAcked. */
  clearAcked (clientId: string, messageId: number): void {
    const ref = this.#indexed(clientId)?.findByMessageId(messageId)
    if (ref === undefined) return
    const ops: WriteOp[] = []
    this.#removeCopy(clientId, ref, ops)
    this.#io.writeBehind(ops)
  }

  /** See LevelPersistence.outgoingStream. */
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

  async dropQueued (clientId: string, brokerId: string, brokerCounter: number): Promise<void> {
    const ref = this.#indexed(clientId)?.findByOrigin(brokerId, brokerCounter)
    if (ref === undefined) return
    const ops: WriteOp[] = []
    this.#removeCopy(clientId, ref, ops)
    await this.#io.write(ops)
  }

  /** See LevelPersistence.takeQueue. */
  async take (clientId: string): Promise<StoredPacket[]> {
    const queue = this.#indexed(clientId)
    if (queue === undefined) return []
    const refs = [...queue.entries.values()]
    const keys = refs.map(ref => this.#copyKey(clientId, ref))
    const ops: WriteOp[] = []
    for (const ref of refs) this.#removeCopy(clientId, ref, ops)
    const packets: StoredPacket[] = []
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      const values = await this.#io.readMany(keys.slice(i, i + READ_CHUNK))
      values.forEach((value, j) => { if (value !== undefined) packets.push(this.#decodeCopy(value, refs[i + j]) as StoredPacket) })
    }
    await this.#io.write(ops)
    return packets
  }

  /** Messages queued (waiting or in flight) for one client. */
  length (clientId: string): number {
    return (this.#queues.get(clientId)?.size ?? 0) + (this.#unindexed.get(clientId)?.length ?? 0)
  }

  get offlineDropped (): number {
    return this.#offlineDropped
  }

  stats (): { queuedMessages: number, clientsWithQueue: number } {
    let queued = 0
    for (const queue of this.#queues.values()) queued += queue.size
    let clients = this.#queues.size
    for (const [clientId, unindexed] of this.#unindexed) {
      queued += unindexed.length
      if (!this.#queues.has(clientId)) clients++
    }
    return { queuedMessages: queued, clientsWithQueue: clients }
  }

  /** Writes what is deferred and defers nothing more: the store closes. */
  close (): void {
    this.#closed = true
    this.writeDeferred()
    clearTimeout(this.#deferredTimer)
    this.#deferredTimer = undefined
  }

  /** QoS 1 packet ids and watermarks are written DEFERRED_WRITE_MS later (see update, shared-messages.ts). */
  writeDeferred (): void {
    clearTimeout(this.#deferredTimer)
    this.#deferredTimer = undefined
    if (this.#sentIds.size === 0 && !this.#shared.hasDirty) return
    const ops: WriteOp[] = this.#shared.dirtyWatermarks(this.#prequeued.ceiling())
    for (const [ref, { clientId, packet }] of this.#sentIds) ops.push(this.#sentCopy(ref, clientId, packet))
    this.#sentIds.clear()
    this.#io.batcher.writeBehind(ops)
    // watermarks held back by a prequeued message (see prequeued.ts)
    if (this.#shared.hasDirty) this.#deferWrites()
  }

  /** Forgets the queued copies the disk never got; keeps the keys of the others (see write-recovery.ts). */
  alignWithDisk (onDisk: Set<string>, kept: Set<string>): void {
    for (const [clientId, queue] of this.#queues) {
      for (const ref of [...queue.entries.values()]) {
        const key = outgoingKey(clientId, ref.seq)
        if (onDisk.has(key)) kept.add(key)
        else this.#unqueue(clientId, ref)
      }
    }
  }

  #queue (clientId: string): ClientQueue {
    let queue = this.#indexed(clientId)
    if (queue === undefined) {
      queue = new ClientQueue()
      this.#queues.set(clientId, queue)
    }
    return queue
  }

  /**
   * An offline client's queue is at its max_offline_messages (`max`): the new
   * copy is dropped (false), or with queue_type = lifo the oldest (its delete joins `ops`).
   */
  #makeRoom (clientId: string, max: number, ops: WriteOp[]): boolean {
    this.#offlineDropped++
    if (!this.#limits.lifoOf(clientId) || max === 0) return false
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

  #deferWrites (): void {
    if (this.#closed) return
    this.#deferredTimer ??= setTimeout(() => { this.writeDeferred() }, DEFERRED_WRITE_MS).unref()
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
    return withRef(decodeValue(value), ref)
  }

  /** #decodeCopy of a shared message decoded before (its fields are shared, not copied). */
  #copyOf (packet: Stored, ref: QueuedRef): Stored {
    return withRef({ ...packet }, ref)
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
          if (cached[j] === undefined) sharedReads.push({ at: j, read: this.#sharedReads.read(ref.seq) })
          continue
        }
        keys.push(ref !== undefined ? this.#copyKey(clientId, ref) : outgoingKey(clientId, chunk[j]))
        reading.push(j)
      }
      this.#sharedReads.start()
      if (keys.length > 0) {
        const read = await this.#io.readMany(keys)
        reading.forEach((at, k) => { values[at] = read[k] })
      }
      for (const { at, read } of sharedReads) cached[at] = await read
      for (let j = 0; j < chunk.length; j++) {
        const value = cached[j]?.value ?? values[j]
        const ref = this.#queues.get(clientId)?.entries.get(chunk[j])
        // skip what was acknowledged, or sent live, since the stream started
        if (value === undefined || ref === undefined || (session !== undefined && ref.sentIn === session)) continue
        if (ref.brokerId !== undefined) ref.stored = cached[j]?.queued ?? queuedPart(value)
        const packet = cached[j]?.packet
        yield packet !== undefined ? this.#copyOf(packet, ref) : this.#decodeCopy(value, ref)
      }
    }
  }
}

/**
 * A stored copy with the origin its queue entry has (a prequeued record on
 * disk has another, see prequeued.ts) and the packet id it was last sent with.
 */
function withRef (packet: Stored, ref: QueuedRef): Stored {
  if (ref.brokerId === undefined) return packet
  packet.brokerId = ref.brokerId
  if (ref.brokerCounter !== undefined) packet.brokerCounter = ref.brokerCounter
  if (ref.messageId !== undefined) packet.messageId = ref.messageId
  return packet
}

/** Whether the prequeued record names exactly the clients the message was queued for. */
function isRecordFor (prequeued: PrequeuedMessage, subs: ReadonlyArray<{ clientId: string }>, sharedBy: string[]): boolean {
  return (subs as unknown) === prequeued.matches && sharedBy.length === subs.length
}

/** What aedes means by a clear: by packet id; by origin when it has none yet; else the oldest unsent. */
function findToClear (queue: ClientQueue, packet: PacketLike | undefined): QueuedRef | undefined {
  if (typeof packet?.messageId === 'number') return queue.findByMessageId(packet.messageId)
  if (typeof packet?.brokerId === 'string' && typeof packet.brokerCounter === 'number') {
    return queue.findUnsentByOrigin(packet.brokerId, packet.brokerCounter)
  }
  return queue.firstUnsent()
}
