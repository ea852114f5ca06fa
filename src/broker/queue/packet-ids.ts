// Packet identifiers of one session's outgoing QoS 1/2 messages: handed out in
// sequence, skipping those still in use.

/** Never handed out: the queue uses it to mark a stored copy it is deleting. */
export const DROP_ID = 65535
const LAST = DROP_ID - 1

export class PacketIds {
  private next = 1
  private readonly used = new Set<number>()

  get size (): number { return this.used.size }

  take (): number {
    for (let tries = 0; tries < LAST; tries++) {
      const id = this.next
      this.next = id >= LAST ? 1 : id + 1
      if (!this.used.has(id)) {
        this.used.add(id)
        return id
      }
    }
    throw new Error('no free packet identifier: 65534 messages in flight')
  }

  /** Marks an id taken elsewhere (a message resumed from the store); false when already in use. */
  reserve (id: number): boolean {
    if (id < 1 || id > LAST || this.used.has(id)) return false
    this.used.add(id)
    return true
  }

  release (id: number): void {
    this.used.delete(id)
  }
}
