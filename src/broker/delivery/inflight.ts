// The unacknowledged QoS 1/2 messages of one session, in send order, and their
// retries: one timer per session (not per message) fires when the oldest entry
// is due, resends every due entry and re-arms for the next one.
import type { OutPacket } from './adapter.js'
import { realClock, type Cancel, type Clock } from './clock.js'

export interface Entry {
  packet: OutPacket
  /** the QoS it is delivered at */
  qos: number
  /** a copy is in the session's stored queue (persistent session), to delete if dropped */
  stored: boolean
  /** its packet identifier once sent (or when resumed from the store); 0 = none yet */
  messageId: number
  /** send again with DUP: it was sent on an earlier connection */
  dup: boolean
  sentAt: number
  /** QoS 2 after PUBREC: a retry resends the PUBREL */
  released: boolean
  /** written to the connection here (writeQos): aedes keeps no state for it */
  direct: boolean
}

/** The window of a connection that has sent nothing yet: shared, never written to. */
const NONE: ReadonlyMap<number, Entry> = new Map()

export class InflightWindow {
  private entries = NONE as Map<number, Entry>
  private timer: Cancel | undefined
  private closed = false

  constructor (
    private readonly retryMs: () => number,
    private readonly resend: (entry: Entry) => void,
    private readonly clock: Clock = realClock
  ) {}

  get size (): number { return this.entries.size }

  add (entry: Entry, now: number): void {
    entry.sentAt = now
    if (this.entries === NONE) this.entries = new Map()
    this.entries.set(entry.messageId, entry)
    if (this.timer === undefined) this.arm(this.retryMs())
  }

  /** PUBACK / PUBCOMP: the entry leaves the window. */
  ack (messageId: number): Entry | undefined {
    const entry = this.entries.get(messageId)
    if (entry !== undefined) this.entries.delete(messageId)
    return entry
  }

  /** PUBREC: the next retry of this entry is a PUBREL, a full interval from now. */
  released (messageId: number, now: number): void {
    const entry = this.entries.get(messageId)
    if (entry === undefined) return
    entry.released = true
    this.touch(entry, now)
  }

  /** Removes and returns every entry, oldest first. */
  drain (): Entry[] {
    const all = [...this.entries.values()]
    this.entries = NONE as Map<number, Entry>
    return all
  }

  close (): void {
    this.closed = true
    this.timer?.()
    this.timer = undefined
  }

  private arm (delay: number): void {
    this.timer = this.clock.setTimer(Math.max(delay, 1), () => { this.fire() })
  }

  private fire (): void {
    this.timer = undefined
    if (this.closed) return
    const retryMs = this.retryMs()
    const now = this.clock.now()
    const due: Entry[] = []
    for (const entry of this.entries.values()) {
      if (now - entry.sentAt < retryMs) break
      due.push(entry)
    }
    for (const entry of due) {
      this.touch(entry, now)
      this.resend(entry)
    }
    const oldest = this.entries.values().next()
    if (oldest.done !== true) this.arm(oldest.value.sentAt + retryMs - now)
  }

  /** Moves the entry to the end of the send order with a new send time. */
  private touch (entry: Entry, now: number): void {
    entry.sentAt = now
    this.entries.delete(entry.messageId)
    this.entries.set(entry.messageId, entry)
  }
}
