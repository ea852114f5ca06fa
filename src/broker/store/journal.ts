// The journal of accepted messages. aedes acknowledges a QoS 1 PUBLISH before
// it routes it into the offline queues. To make an acknowledged message
// survive a crash, the node journals it before aedes acknowledges; the
// journal entry is deleted in the same LevelDB batch that writes its queue
// copies (OutgoingQueues.enqueue), and entries left after a crash are
// published again at start (take). A `held` entry (a message routed to other
// cluster members) is deleted by release() instead, once the members have it.
//
// An entry holds the message as it is queued (aedes' queued copy without its
// origin), so queueing it takes the entry's bytes instead of encoding the
// message again (see queued()).
import { decodeValue, encodeValue, type Stored } from './codec.js'
import { journalKey } from './keys.js'
import type { StoreIo } from './store-io.js'
import type { PacketLike } from './store-types.js'
import type { WriteOp } from './write-batcher.js'

interface Entry {
  key: string
  /** the encoded entry, when it is the queued copy's packet (a message without MQTT 5 properties) */
  body: Buffer | undefined
  topic: unknown
  qos: unknown
  retain: unknown
}

export class Journal {
  readonly #io: StoreIo
  /** journal entries of accepted messages, by payload (aedes keeps the payload Buffer through its copies) */
  readonly #journaled = new WeakMap<Buffer, Entry>()
  /** journal entries kept until release(): messages routed to cluster members, and those replayed at start */
  readonly #held = new WeakMap<Buffer, string>()
  #seq = 0
  /** journal entries found at start: accepted but never queued before a crash */
  #unreplayed: Array<{ key: string, packet: PacketLike }> = []

  constructor (io: StoreIo) {
    this.#io = io
  }

  async load (): Promise<void> {
    await this.#io.scan('j', true, (key, value) => {
      this.#unreplayed.push({ key, packet: decodeValue(value as Buffer) as unknown as PacketLike })
      this.#seq = Math.max(this.#seq, parseInt(key.slice(1), 16))
    })
  }

  async journal (packet: PacketLike, held: boolean): Promise<void> {
    const payload = packet.payload as Buffer
    if (this.#journaled.has(payload) || this.#held.has(payload)) return
    const key = journalKey(++this.#seq)
    const record: Stored = { cmd: 'publish', topic: packet.topic, payload, qos: packet.qos, retain: packet.retain }
    if (packet.properties !== undefined) {
      addProperties(record, packet.properties as { messageExpiryInterval?: number })
    } else {
      // the fields aedes' queued copy adds (see queuedCopy); take() leaves them out
      record.dup = false
      record.messageId = undefined
    }
    const value = encodeValue(record)
    if (held) this.#held.set(payload, key)
    else this.#journaled.set(payload, { key, body: packet.properties === undefined ? value : undefined, topic: packet.topic, qos: packet.qos, retain: packet.retain })
    await this.#io.batcher.write([{ type: 'put', key, value }])
  }

  /** The entries found at start; each is held until released. */
  take (): PacketLike[] {
    const pending = this.#unreplayed
    this.#unreplayed = []
    for (const { key, packet } of pending) {
      this.#held.set(packet.payload as Buffer, key)
      delete packet.dup
      delete packet.messageId
    }
    return pending.map(p => p.packet)
  }

  release (payload: Buffer): void {
    const key = this.#held.get(payload)
    if (key === undefined) return
    this.#held.delete(payload)
    this.#io.writeBehind([{ type: 'del', key }])
  }

  /**
   * The message is being queued: its (not held) entry's delete joins `ops`.
   * Returns the encoded entry when it is the packet aedes queues, without origin
   * (codec.encodeQueuedFrom), else undefined.
   */
  queued (packet: PacketLike, ops: WriteOp[]): Buffer | undefined {
    const payload = packet.payload as Buffer
    const entry = this.#journaled.get(payload)
    if (entry === undefined) return undefined
    this.#journaled.delete(payload)
    ops.push({ type: 'del', key: entry.key })
    return entry.body !== undefined && isQueuedAs(packet, entry) ? entry.body : undefined
  }
}

/** Whether aedes' queued copy of `packet` (queuedCopy) is the entry with an origin. */
function isQueuedAs (packet: PacketLike, entry: Entry): boolean {
  return packet.topic === entry.topic && packet.qos === entry.qos && (packet.retain || false) === entry.retain &&
    (packet.cmd === undefined || packet.cmd === 'publish') && packet.dup !== true && typeof packet.brokerId === 'string' &&
    !Object.hasOwn(packet, 'clientId') && !Object.hasOwn(packet, 'nl') && !Object.hasOwn(packet, 'properties') &&
    !Object.hasOwn(packet, 'messageExpiry')
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
