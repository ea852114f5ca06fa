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
