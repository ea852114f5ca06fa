// Where trace lines go: the gRPC stream of a `trace client` call. A trace must
// never hold the node back: lines wait in a bounded queue while the stream is
// full, and what does not fit is counted and reported once it drains.
import type { TraceLine } from '../../rpc/generated/vmq/TraceLine.js'

/** Lines kept while the caller reads slower than the node traces. */
export const MAX_QUEUED_LINES = 1000

export interface LineStream {
  write: (line: TraceLine) => boolean
  once: (event: 'drain', listener: () => void) => unknown
}

export class TraceOutput {
  private queue: TraceLine[] = []
  private dropped = 0
  private waiting = false
  private held: boolean
  private closed = false

  /** `hold`: queue lines until release() (the caller's summary goes first). */
  constructor (private readonly stream: LineStream, hold = false) {
    this.held = hold
  }

  write (line: TraceLine): void {
    if (this.closed) return
    if (this.waiting || this.held) {
      if (this.queue.length < MAX_QUEUED_LINES) this.queue.push(line)
      else this.dropped++
      return
    }
    this.send([line])
  }

  /** Sends `first`, then what was held back. */
  release (first: TraceLine[]): void {
    this.held = false
    this.queue.unshift(...first)
    if (!this.waiting) this.flush()
  }

  close (): void {
    this.closed = true
    this.queue = []
  }

  private flush (): void {
    this.waiting = false
    const lines = this.queue
    this.queue = []
    if (this.dropped > 0) {
      lines.push({ text: `${this.dropped} trace lines dropped: the trace was read too slowly` })
      this.dropped = 0
    }
    this.send(lines)
  }

  private send (lines: TraceLine[]): void {
    for (let i = 0; i < lines.length; i++) {
      if (this.closed) return
      if (!this.stream.write(lines[i])) {
        this.queue = lines.slice(i + 1).concat(this.queue)
        this.waiting = true
        this.stream.once('drain', () => { if (!this.closed) this.flush() })
        return
      }
    }
  }
}

/**
 * At most `max` lines per `intervalMs` (VerneMQ's --rate-max/--rate-interval);
 * the lines over it are not formatted at all, only counted, and the count is
 * reported when the interval ends.
 */
export class RateLimit {
  private windowStart = 0
  private used = 0
  private suppressed = 0
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly max: number, private readonly intervalMs: number, private readonly report: (suppressed: number) => void) {}

  take (): boolean {
    const now = Date.now()
    if (now - this.windowStart >= this.intervalMs) {
      this.flush()
      this.windowStart = now
      this.used = 0
    }
    if (this.used < this.max) {
      this.used++
      return true
    }
    this.suppressed++
    if (this.timer === undefined) {
      this.timer = setTimeout(() => { this.flush() }, this.intervalMs - (now - this.windowStart))
      this.timer.unref()
    }
    return false
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private flush (): void {
    this.stop()
    if (this.suppressed === 0) return
    const n = this.suppressed
    this.suppressed = 0
    this.report(n)
  }
}
