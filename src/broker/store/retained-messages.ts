// Retained messages: the set of retained topics is kept in memory, the
// messages on disk (r keys). Stored write-behind, like queued messages (see
// LevelPersistence.flushed).
import { encodeValue, type Stored } from './codec.js'
import { retainedKey } from './keys.js'
import { filterMatches } from '../../mqtt/topic.js'
import type { StoreIo } from './store-io.js'
import type { PacketLike } from './store-types.js'

export class RetainedMessages {
  readonly #io: StoreIo
  readonly #topics = new Set<string>()
  /** topics stored while a sweep reads (their message is newer than the one it read) */
  #storedDuringSweep: Set<string> | undefined

  constructor (io: StoreIo) {
    this.#io = io
  }

  async load (): Promise<void> {
    await this.#io.scan('r', false, key => this.#topics.add(key.slice(1)))
  }

  get size (): number {
    return this.#topics.size
  }

  store (packet: PacketLike): void {
    const topic = String(packet.topic)
    this.#storedDuringSweep?.add(topic)
    const key = retainedKey(topic)
    if (payloadLength(packet.payload) === 0) {
      this.#topics.delete(topic)
      this.#io.writeBehind([{ type: 'del', key }])
    } else {
      this.#topics.add(topic)
      this.#io.writeBehind([{ type: 'put', key, value: encodeValue(packet) }])
    }
  }

  async * matching (patterns: string[]): AsyncGenerator<Stored> {
    for (const pattern of patterns) {
      const topics = hasWildcard(pattern)
        ? [...this.#topics].filter(topic => filterMatches(pattern, topic))
        : this.#topics.has(pattern) ? [pattern] : []
      yield * this.#io.valuesOf(topics.map(retainedKey))
    }
  }

  /**
   * Deletes the retained messages `expired` says have run out (MQTT 5 Message
   * Expiry Interval; expire_retain_cache); returns how many. A topic stored
   * again while the sweep reads keeps its new message.
   */
  async sweep (expired: (message: Stored) => boolean): Promise<number> {
    if (this.#storedDuringSweep !== undefined) return 0
    const touched = new Set<string>()
    this.#storedDuringSweep = touched
    const gone: string[] = []
    try {
      for await (const message of this.#io.valuesOf([...this.#topics].map(retainedKey))) {
        if (expired(message)) gone.push(String(message.topic))
      }
    } finally {
      this.#storedDuringSweep = undefined
    }
    const deleted = gone.filter(topic => !touched.has(topic) && this.#topics.delete(topic))
    if (deleted.length > 0) this.#io.writeBehind(deleted.map(topic => ({ type: 'del', key: retainedKey(topic) })))
    return deleted.length
  }

  /** Forgets the retained messages the disk never got; keeps the keys of the others (see write-recovery.ts). */
  alignWithDisk (onDisk: Set<string>, kept: Set<string>): void {
    for (const topic of [...this.#topics]) {
      const key = retainedKey(topic)
      if (onDisk.has(key)) kept.add(key)
      else this.#topics.delete(topic)
    }
  }
}

function payloadLength (payload: unknown): number {
  if (payload === undefined || payload === null) return 0
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload.length
  return String(payload).length
}

function hasWildcard (pattern: string): boolean {
  return pattern.includes('+') || pattern.includes('#')
}
