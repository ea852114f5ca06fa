// Packet identifiers of one session's outgoing QoS 1/2 messages: handed out in
// sequence, skipping those still in use.

/** the highest packet identifier MQTT allows */
const LAST = 65535

export class PacketIds {
  private next = 1
  /** made on the first id: an idle connection keeps none */
  private used: Set<number> | undefined

  get size (): number { return this.used?.size ?? 0 }

  take (): number {
    const used = this.used ??= new Set()
    for (let tries = 0; tries < LAST; tries++) {
      const id = this.next
      this.next = id >= LAST ? 1 : id + 1
      if (!used.has(id)) {
        used.add(id)
        return id
      }
    }
    throw new Error('no free packet identifier: 65534 messages in flight')
  }

  /** Marks an id taken elsewhere (a message resumed from the store); false when already in use. */
  reserve (id: number): boolean {
    const used = this.used ??= new Set()
    if (id < 1 || id > LAST || used.has(id)) return false
    used.add(id)
    return true
  }

  release (id: number): void {
    this.used?.delete(id)
  }
}
