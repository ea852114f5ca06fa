// Messages queued before they are routed. An accepted QoS 1/2 message for
// persistent sessions must be on disk before it is acknowledged, and aedes
// routes it into the queues only after that. Instead of a journal entry that
// the queueing deletes again, the message is written at once as the shared
// record the queueing would write (shared-messages.ts), naming the sessions
// the subscription index gives for its topic. When aedes then queues it for
// exactly those sessions (the same index answer, none dropped for
// max_offline_messages, no second copy for a client) and nothing was queued
// since with a higher seq, the record on disk is already right and the
// queueing writes nothing: one write per message. Otherwise the queueing
// writes its own record, as for a message without one, and deletes this one
// in the same batch.
//
// A record written here and not yet queued is a queued message after a crash
// (it was acknowledged). Its seq must therefore not fall below a client's
// watermark on disk before the queueing: watermarks are written no higher
// than the oldest such record (ceiling()), for PREQUEUE_WAIT_MS at most. A
// message aedes never queues (an error between the acknowledgement and the
// routing) is delivered after the next start to the sessions whose
// watermark has not passed it.
import { encodeNames, encodeQueuedFrom, encodeShared, encodeValue } from './codec.js'
import { messageKey } from './keys.js'
import type { PacketLike } from './store-types.js'
import type { TopicMatch } from './topic-index.js'
import type { WriteOp } from './write-batcher.js'

/** the origin of a prequeued record on disk (its counter is the seq); a queue entry loaded from it has this origin */
export const PREQUEUED_ORIGIN = 'vmq-store'
/** how long a prequeued record holds watermarks back: aedes queues a message within a turn or two of its acknowledgement */
const PREQUEUE_WAIT_MS = 5000

export interface PrequeuedMessage {
  readonly seq: number
  /** the subscription index's answer the record names the clients of */
  readonly matches: readonly TopicMatch[]
  /** the message as aedes queues it, without origin (codec.encodeQueuedFrom) */
  readonly body: Buffer
  readonly topic: string
  readonly qos: number
}

export class Prequeued {
  readonly #byPayload = new WeakMap<Buffer, PrequeuedMessage>()
  /** seq -> when written, oldest first, until queued */
  readonly #pending = new Map<number, number>()
  #lastMatches: readonly TopicMatch[] | undefined
  #lastNames: Buffer | undefined

  /**
   * The record of a message to write before it is acknowledged, or undefined
   * when the message cannot be prequeued: it is retained (a replayed journal
   * entry stores it again), has MQTT 5 properties, or names a client twice.
   */
  record (packet: PacketLike, matches: readonly TopicMatch[], seq: number): WriteOp | undefined {
    const payload = packet.payload
    if (!Buffer.isBuffer(payload) || this.#byPayload.has(payload) || packet.retain === true || packet.properties !== undefined ||
      typeof packet.topic !== 'string' || typeof packet.qos !== 'number' || packet.qos === 0 || matches.length === 0) return undefined
    const names = this.#namesOf(matches)
    if (names === undefined) return undefined
    const body = encodeValue({ cmd: 'publish', topic: packet.topic, payload, qos: packet.qos, retain: false, dup: false, messageId: undefined })
    const queued = encodeQueuedFrom(body, PREQUEUED_ORIGIN, seq) as Buffer
    this.#byPayload.set(payload, { seq, matches, body, topic: packet.topic, qos: packet.qos })
    this.#pending.set(seq, Date.now())
    return { type: 'put', key: messageKey(seq), value: encodeShared(names, queued) }
  }

  has (payload: Buffer): boolean {
    return this.#byPayload.has(payload)
  }

  /** The prequeued record of a message aedes queues now, if it has one (it is no longer pending). */
  take (packet: PacketLike): PrequeuedMessage | undefined {
    const message = this.#byPayload.get(packet.payload as Buffer)
    if (message === undefined) return undefined
    this.#byPayload.delete(packet.payload as Buffer)
    this.#pending.delete(message.seq)
    return message
  }

  /** The highest watermark that may be written now (see the top). */
  ceiling (): number {
    const now = Date.now()
    for (const [seq, at] of this.#pending) {
      if (now - at <= PREQUEUE_WAIT_MS) return seq
      this.#pending.delete(seq)
    }
    return Infinity
  }

  /** The encoded client ids of the index's answer, or undefined when a client is in it twice. */
  #namesOf (matches: readonly TopicMatch[]): Buffer | undefined {
    if (matches !== this.#lastMatches) {
      const ids = matches.map(m => m.clientId)
      this.#lastMatches = matches
      this.#lastNames = new Set(ids).size === ids.length ? encodeNames(ids) : undefined
    }
    return this.#lastNames
  }
}

/** Whether aedes' queued copy of `packet` (queuedCopy) is the prequeued message with an origin. */
export function isQueuedAs (packet: PacketLike, message: PrequeuedMessage): boolean {
  return packet.topic === message.topic && packet.qos === message.qos && packet.retain !== true &&
    (packet.cmd === undefined || packet.cmd === 'publish') && packet.dup !== true && typeof packet.brokerId === 'string' &&
    !Object.hasOwn(packet, 'clientId') && !Object.hasOwn(packet, 'nl') && !Object.hasOwn(packet, 'properties') &&
    !Object.hasOwn(packet, 'messageExpiry')
}
