// In-memory index of one client's queued outgoing messages, so that aedes'
// lookups (by origin brokerId+brokerCounter when a message is sent, by packet
// id when it is acknowledged) cost a map lookup instead of a queue scan. The
// packets themselves stay on disk; this holds ~100 bytes per queued message.

export interface QueuedRef {
  readonly seq: number
  /** origin of a PUBLISH; undefined once the entry became a PUBREL */
  brokerId: string | undefined
  brokerCounter: number | undefined
  messageId: number | undefined
  /** the delivery session (see LevelPersistence) that last gave it a packet id; 0 = none */
  sentIn: number
  /** the client has a record of its own (o key) for it */
  own: boolean
  /** it is the client's copy of a shared message (q key) */
  shared: boolean
  /**
   * the encoded copy, kept from when it was read for a resumed session or
   * queued for a connected one until it is sent, so sending only patches in
   * the packet id
   */
  stored: Buffer | undefined
  /** next entry with the same origin (a client with overlapping subscriptions gets one copy per match) */
  sameOrigin: QueuedRef | undefined
  /** next entry holding the same packet id (ids wrap around after 65535 messages in flight) */
  sameId: QueuedRef | undefined
}

export class ClientQueue {
  /** seq -> entry, in queue order (seqs only grow) */
  readonly entries = new Map<number, QueuedRef>()
  /**
   * built on the first lookup by origin: a queue filled while its client is
   * offline is never looked up by origin until the client is back
   */
  #byOrigin: Map<string, Map<number, QueuedRef>> | undefined
  #byMessageId = new Map<number, QueuedRef>()

  get size (): number {
    return this.entries.size
  }

  append (seq: number, brokerId: string | undefined, brokerCounter: number | undefined, messageId: number | undefined): QueuedRef {
    const ref: QueuedRef = {
      seq, brokerId, brokerCounter, messageId: undefined, sentIn: 0, own: true, shared: false, stored: undefined, sameOrigin: undefined, sameId: undefined
    }
    this.entries.set(seq, ref)
    if (this.#byOrigin !== undefined) this.#linkOrigin(this.#byOrigin, ref)
    if (messageId !== undefined) this.setMessageId(ref, messageId)
    return ref
  }

  /** The oldest entry's seq. */
  firstSeq (): number | undefined {
    return this.entries.keys().next().value
  }

  remove (ref: QueuedRef): void {
    if (!this.entries.delete(ref.seq)) return
    this.#unlinkOrigin(ref)
    this.#unmapMessageId(ref)
  }

  setMessageId (ref: QueuedRef, messageId: number): void {
    if (ref.messageId === messageId) return
    this.#unmapMessageId(ref)
    ref.messageId = messageId
    const first = this.#byMessageId.get(messageId)
    if (first === undefined) {
      this.#byMessageId.set(messageId, ref)
      return
    }
    let last = first
    while (last.sameId !== undefined) last = last.sameId
    last.sameId = ref
  }

  /** The entry turned into a PUBREL: it keeps its packet id and loses its origin. */
  forgetOrigin (ref: QueuedRef): void {
    this.#unlinkOrigin(ref)
    ref.brokerId = undefined
    ref.brokerCounter = undefined
  }

  /**
   * The entry a PUBLISH from this origin updates: the oldest copy not yet
   * given a packet id (or already holding `messageId`), else the oldest copy.
   */
  findByOrigin (brokerId: string, brokerCounter: number, messageId?: number): QueuedRef | undefined {
    const first = this.#origins().get(brokerId)?.get(brokerCounter)
    for (let ref = first; ref !== undefined; ref = ref.sameOrigin) {
      if (ref.messageId === undefined || ref.messageId === messageId) return ref
    }
    return first
  }

  /** The oldest copy from this origin that was never sent (has no packet id). */
  findUnsentByOrigin (brokerId: string, brokerCounter: number): QueuedRef | undefined {
    for (let ref = this.#origins().get(brokerId)?.get(brokerCounter); ref !== undefined; ref = ref.sameOrigin) {
      if (ref.messageId === undefined) return ref
    }
    return undefined
  }

  findByMessageId (messageId: number): QueuedRef | undefined {
    return this.#byMessageId.get(messageId)
  }

  firstUnsent (): QueuedRef | undefined {
    for (const ref of this.entries.values()) {
      if (ref.messageId === undefined) return ref
    }
    return undefined
  }

  #origins (): Map<string, Map<number, QueuedRef>> {
    if (this.#byOrigin === undefined) {
      const byOrigin = new Map<string, Map<number, QueuedRef>>()
      for (const ref of this.entries.values()) this.#linkOrigin(byOrigin, ref)
      this.#byOrigin = byOrigin
    }
    return this.#byOrigin
  }

  #linkOrigin (byOrigin: Map<string, Map<number, QueuedRef>>, ref: QueuedRef): void {
    if (ref.brokerId === undefined || ref.brokerCounter === undefined) return
    let counters = byOrigin.get(ref.brokerId)
    if (counters === undefined) {
      counters = new Map()
      byOrigin.set(ref.brokerId, counters)
    }
    const first = counters.get(ref.brokerCounter)
    if (first === undefined) {
      counters.set(ref.brokerCounter, ref)
      return
    }
    let last = first
    while (last.sameOrigin !== undefined) last = last.sameOrigin
    last.sameOrigin = ref
  }

  #unlinkOrigin (ref: QueuedRef): void {
    if (this.#byOrigin === undefined || ref.brokerId === undefined || ref.brokerCounter === undefined) return
    const counters = this.#byOrigin.get(ref.brokerId)
    const first = counters?.get(ref.brokerCounter)
    if (counters === undefined || first === undefined) return
    if (first === ref) {
      if (ref.sameOrigin !== undefined) counters.set(ref.brokerCounter, ref.sameOrigin)
      else counters.delete(ref.brokerCounter)
      if (counters.size === 0) this.#byOrigin.delete(ref.brokerId)
    } else {
      let prev = first
      while (prev.sameOrigin !== undefined && prev.sameOrigin !== ref) prev = prev.sameOrigin
      if (prev.sameOrigin === ref) prev.sameOrigin = ref.sameOrigin
    }
    ref.sameOrigin = undefined
  }

  #unmapMessageId (ref: QueuedRef): void {
    const id = ref.messageId
    if (id === undefined) return
    const first = this.#byMessageId.get(id)
    if (first === ref) {
      if (ref.sameId !== undefined) this.#byMessageId.set(id, ref.sameId)
      else this.#byMessageId.delete(id)
    } else if (first !== undefined) {
      let prev = first
      while (prev.sameId !== undefined && prev.sameId !== ref) prev = prev.sameId
      if (prev.sameId === ref) prev.sameId = ref.sameId
    }
    ref.sameId = undefined
  }
}
