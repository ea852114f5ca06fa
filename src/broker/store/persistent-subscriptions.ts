// Persistent sessions' subscriptions (s keys), all kept in memory, with the
// topic index that finds who gets a copy of a message.
import { decodeValue, encodeValue } from './codec.js'
import { parseClientKey, subscriptionKey } from './keys.js'
import type { StoreIo } from './store-io.js'
import type { DiskKeys, SubscribingClient, SubscriptionLike } from './store-types.js'
import { TopicIndex, type TopicMatch } from './topic-index.js'
import type { WriteOp } from './write-batcher.js'

interface SubscriptionRecord {
  qos: number
  rh: number | undefined
  rap: boolean | undefined
  nl: boolean | undefined
  subscriptionIdentifier?: number
}

/** a SUBACK failure code: aedes hands denied filters to addSubscriptions too */
const FIRST_FAILURE_QOS = 0x80

export class PersistentSubscriptions {
  readonly #io: StoreIo
  readonly #byClient = new Map<string, Map<string, SubscriptionRecord>>()
  readonly #index = new TopicIndex()

  constructor (io: StoreIo) {
    this.#io = io
  }

  async load (): Promise<void> {
    await this.#io.scan('s', true, (key, value) => {
      const { clientId, rest: topic } = parseClientKey(key)
      this.#remember(clientId, topic, decodeValue(value as Buffer) as unknown as SubscriptionRecord)
    })
  }

  all (): Array<{ clientId: string, topic: string, qos: number }> {
    const all: Array<{ clientId: string, topic: string, qos: number }> = []
    for (const [clientId, stored] of this.#byClient) {
      for (const [topic, record] of stored) all.push({ clientId, topic, qos: record.qos })
    }
    return all
  }

  /** QoS > 0 subscriptions matching the topic. */
  match (topic: string): readonly TopicMatch[] {
    return this.#index.match(topic)
  }

  /** persistent subscriptions with QoS > 0 */
  get count (): number {
    return this.#index.count
  }

  get clients (): number {
    return this.#byClient.size
  }

  has (clientId: string): boolean {
    return this.#byClient.has(clientId)
  }

  /** A filter already marked with a failure code is skipped (see LevelPersistence.addSubscriptions). */
  async add (clientId: string, subs: SubscriptionLike[]): Promise<void> {
    const ops: WriteOp[] = []
    for (const sub of subs) {
      if (typeof sub.qos === 'number' && sub.qos >= FIRST_FAILURE_QOS) continue
      const record: SubscriptionRecord = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl }
      if (sub.subscriptionIdentifier !== undefined) record.subscriptionIdentifier = sub.subscriptionIdentifier
      const previous = this.#remember(clientId, sub.topic, record)
      if (previous === undefined || !sameRecord(previous, record)) {
        ops.push({ type: 'put', key: subscriptionKey(clientId, sub.topic), value: encodeValue(record) })
      }
    }
    await this.#io.write(ops)
  }

  async remove (clientId: string, topics: string[]): Promise<void> {
    const stored = this.#byClient.get(clientId)
    if (stored === undefined) return
    const ops: WriteOp[] = []
    for (const topic of topics) {
      const record = stored.get(topic)
      if (record === undefined) continue
      if (record.qos > 0) this.#index.remove(topic, clientId)
      stored.delete(topic)
      ops.push({ type: 'del', key: subscriptionKey(clientId, topic) })
    }
    if (stored.size === 0) this.#byClient.delete(clientId)
    await this.#io.write(ops)
  }

  of (clientId: string): SubscriptionLike[] {
    const stored = this.#byClient.get(clientId)
    if (stored === undefined) return []
    return [...stored].map(([topic, record]) => ({ topic, ...record }))
  }

  /** Forgets the client's subscriptions; their deletes join `ops`. */
  clean (clientId: string, ops: WriteOp[]): void {
    const stored = this.#byClient.get(clientId)
    if (stored === undefined) return
    for (const [topic, record] of stored) {
      if (record.qos > 0) this.#index.remove(topic, clientId)
      ops.push({ type: 'del', key: subscriptionKey(clientId, topic) })
    }
    this.#byClient.delete(clientId)
  }

  /** Client ids holding a persistent subscription to exactly `topic`. */
  clientsOf (topic: string): string[] {
    const ids: string[] = []
    for (const [clientId, stored] of this.#byClient) {
      if (stored.has(topic)) ids.push(clientId)
    }
    return ids
  }

  /**
   * After the SUBACK aedes has set each filter's qos to what was granted: a
   * refused filter (>= 0x80) must not stay persisted, or messages for it would
   * be queued while the client is offline and delivered when it reconnects.
   * A filter refused again while an earlier grant is live keeps the live one.
   */
  afterSubscribe (subs: SubscriptionLike[], client: SubscribingClient): void {
    const stored = this.#byClient.get(client.id)
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
    if (stored.size === 0) this.#byClient.delete(client.id)
    this.#io.write(ops).catch(() => {})
  }

  /** Writes the subscriptions the disk lacks or holds otherwise (`ops`), and keeps their keys (see write-recovery.ts). */
  alignWithDisk (disk: DiskKeys, kept: Set<string>, ops: WriteOp[]): void {
    for (const [clientId, stored] of this.#byClient) {
      for (const [topic, record] of stored) {
        const key = subscriptionKey(clientId, topic)
        kept.add(key)
        const value = disk.subscriptions.get(key)
        if (value === undefined || !sameRecord(decodeValue(value) as unknown as SubscriptionRecord, record)) {
          ops.push({ type: 'put', key, value: encodeValue(record) })
        }
      }
    }
  }

  #remember (clientId: string, topic: string, record: SubscriptionRecord): SubscriptionRecord | undefined {
    let stored = this.#byClient.get(clientId)
    if (stored === undefined) {
      stored = new Map()
      this.#byClient.set(clientId, stored)
    }
    const previous = stored.get(topic)
    stored.set(topic, record)
    if (record.qos > 0) this.#index.add(topic, clientId, record)
    else if (previous !== undefined && previous.qos > 0) this.#index.remove(topic, clientId)
    return previous
  }
}

function sameRecord (a: SubscriptionRecord, b: SubscriptionRecord): boolean {
  return a.qos === b.qos && a.rh === b.rh && a.rap === b.rap && a.nl === b.nl &&
    a.subscriptionIdentifier === b.subscriptionIdentifier
}
