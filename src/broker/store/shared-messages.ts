// A message queued for many offline sessions is written once (a q key naming
// the clients) instead of once per client. What each client is done with is
// kept per client: a watermark (a key: its copies below this seq are gone),
// which in-order PUBACKs move and which is written when the owner asks
// (dirtyWatermarks, every second) however many copies it covers, and, for a
// copy removed out of order, an x key. The q key and its x keys are deleted
// with the last copy. A watermark written late only means that a crash
// brings back copies that were acknowledged: QoS 1 allows it, and a QoS 2
// copy is done with its shared message at PUBREL, when its own record is
// written (see LevelPersistence.outgoingUpdate).
import { encodeNames, encodeShared } from './codec.js'
import { messageKey, removedKey, watermarkKey } from './keys.js'
import type { WriteOp } from './write-batcher.js'

const EMPTY_VALUE = Buffer.alloc(0)
/**
 * shared messages kept read and decoded: resumed sessions read the same
 * messages at about the same time (each a chunk of 256 at a time)
 */
const READ_CACHE_SIZE = 2048

export interface CachedMessage {
  value: Buffer
  /** the queued packet in `value` (codec.queuedPart), taken once for all the clients it is sent to */
  queued: Buffer
  /** decoded once; hand out copies */
  packet: Record<string, unknown>
}

export class SharedMessages {
  /** seq -> copies still queued */
  readonly #copies = new Map<number, number>()
  /** seq -> clients whose copy was removed out of order (an x key each) */
  readonly #removed = new Map<number, string[]>()
  /** client id -> watermark as written */
  readonly #watermarks = new Map<string, number>()
  readonly #read = new Map<number, CachedMessage>()
  /** seq -> origin of messages queued since the start (a client's queue index is built from it later) */
  readonly #origins = new Map<number, { brokerId: string, brokerCounter: number }>()
  /** clients whose watermark moved since it was last written */
  readonly #dirty = new Set<string>()
  /** the client ids of the last message added, and their encoding: messages to one topic name the same clients */
  #lastIds: string[] = []
  #lastNames = encodeNames([])

  // ---- at load ----

  loadWatermark (clientId: string, value: Buffer): void {
    const seq = parseInt(value.toString(), 16)
    if (!Number.isSafeInteger(seq)) throw new Error(`unreadable watermark ${JSON.stringify(value.toString())}`)
    this.#watermarks.set(clientId, seq)
  }

  loadRemoved (clientId: string, seq: number): void {
    const clients = this.#removed.get(seq)
    if (clients === undefined) this.#removed.set(seq, [clientId])
    else clients.push(clientId)
  }

  /** Whether the client's copy of message seq is still queued. */
  isQueued (clientId: string, seq: number): boolean {
    return seq >= (this.#watermarks.get(clientId) ?? 0) && this.#removed.get(seq)?.includes(clientId) !== true
  }

  /** A stored message with its copies still queued; with none, its keys are deleted (`ops`). */
  loadMessage (seq: number, copies: number, ops: WriteOp[]): void {
    if (copies > 0) this.#copies.set(seq, copies)
    else this.#forget(seq, ops)
  }

  /** After loading: x keys of messages that are gone are deleted (`ops`). */
  loaded (ops: WriteOp[]): void {
    for (const seq of [...this.#removed.keys()]) {
      if (!this.#copies.has(seq)) this.#forget(seq, ops, false)
    }
  }

  /** The highest watermark: seqs below it must not be given out again. */
  highestWatermark (): number {
    let highest = 0
    for (const seq of this.#watermarks.values()) if (seq > highest) highest = seq
    return highest
  }

  // ---- at run time ----

  /** A message was queued for `clientIds`; its record (recordOf) is written unless one on disk names them already. */
  added (seq: number, clientIds: string[], brokerId?: string, brokerCounter?: number): void {
    this.#copies.set(seq, clientIds.length)
    if (brokerId !== undefined) this.#origins.set(seq, { brokerId, brokerCounter: brokerCounter ?? 0 })
  }

  /** The record of a message queued for `clientIds` (the queued packet, encoded once). */
  recordOf (seq: number, clientIds: string[], queued: Buffer): WriteOp {
    return { type: 'put', key: messageKey(seq), value: encodeShared(this.#namesOf(clientIds), queued) }
  }

  #namesOf (clientIds: string[]): Buffer {
    const last = this.#lastIds
    let same = last.length === clientIds.length
    for (let i = 0; same && i < clientIds.length; i++) same = last[i] === clientIds[i]
    if (!same) {
      this.#lastIds = clientIds
      this.#lastNames = encodeNames(clientIds)
    }
    return this.#lastNames
  }

  /**
   * The client's copy of message seq left its queue; `watermark` is the seq
   * of the client's oldest queued copy now (or the next seq when it has none).
   */
  removed (clientId: string, seq: number, watermark: number, ops: WriteOp[]): void {
    if (watermark > (this.#watermarks.get(clientId) ?? 0)) {
      this.#watermarks.set(clientId, watermark)
      this.#dirty.add(clientId)
    }
    const left = (this.#copies.get(seq) ?? 1) - 1
    if (left > 0) {
      this.#copies.set(seq, left)
      if (seq >= watermark) {
        this.loadRemoved(clientId, seq)
        ops.push({ type: 'put', key: removedKey(clientId, seq), value: EMPTY_VALUE })
      }
      return
    }
    this.#forget(seq, ops)
  }

  /** Whether watermarks wait to be written (dirtyWatermarks). */
  get hasDirty (): boolean {
    return this.#dirty.size > 0
  }

  /**
   * The watermarks that moved since the last call, to write, none above
   * `ceiling`; one held back by it stays to write.
   */
  dirtyWatermarks (ceiling = Infinity): WriteOp[] {
    const ops: WriteOp[] = []
    for (const clientId of this.#dirty) {
      const watermark = this.#watermarks.get(clientId) ?? 0
      const written = Math.min(watermark, ceiling)
      ops.push({ type: 'put', key: watermarkKey(clientId), value: Buffer.from(written.toString(16)) })
      if (written === watermark) this.#dirty.delete(clientId)
    }
    return ops
  }

  /** Where a message queued since the start came from. */
  origin (seq: number): { brokerId: string, brokerCounter: number } | undefined {
    return this.#origins.get(seq)
  }

  /** A shared message read recently, or undefined. */
  cached (seq: number): CachedMessage | undefined {
    return this.#read.get(seq)
  }

  remember (seq: number, message: CachedMessage): void {
    if (!this.#copies.has(seq)) return
    if (this.#read.size >= READ_CACHE_SIZE) this.#read.delete(this.#read.keys().next().value as number)
    this.#read.set(seq, message)
  }

  #forget (seq: number, ops: WriteOp[], withMessage = true): void {
    this.#copies.delete(seq)
    this.#origins.delete(seq)
    this.#read.delete(seq)
    if (withMessage) ops.push({ type: 'del', key: messageKey(seq) })
    for (const clientId of this.#removed.get(seq) ?? []) ops.push({ type: 'del', key: removedKey(clientId, seq) })
    this.#removed.delete(seq)
  }
}
