// max_message_rate: at most N PUBLISHes per second per connection. VerneMQ
// stops reading a connection past the rate; aedes reads a socket a chunk at a
// time (hundreds of small PUBLISHes at once), so here each PUBLISH past the
// rate is held in authorizePublish until its second comes: aedes reads nothing
// more from the connection meanwhile, order is kept, and nothing is dropped.
// A plugin's throttle (webhooks) pauses the connection's PUBLISHes the same way.

const WINDOW_MS = 1000

export class PublishRate {
  private start = -Infinity
  private count = 0
  /** the held PUBLISHes, released one after the other: timers of different lengths due at the same ms fire in no set order */
  private held: Promise<void> = Promise.resolve()
  /** a plugin's throttle: PUBLISHes arriving before this time wait for it */
  private pausedUntil = 0

  /** No PUBLISH of the connection goes on for `ms` from `now` (webhooks' throttle modifier). */
  pause (ms: number, now: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + ms)
  }

  /** ms a PUBLISH arriving at `now` waits for a pause to end (0: none). */
  pausedFor (now: number): number {
    return Math.max(0, this.pausedUntil - now)
  }

  /** ms the PUBLISH arriving at `now` waits for its slot (0: at once); `max` <= 0 is unlimited. */
  delay (max: number, now: number): number {
    if (max <= 0) return 0
    if (now - this.start >= WINDOW_MS) {
      this.start = now
      this.count = 0
    }
    if (this.count < max) {
      this.count++
      return Math.max(0, this.start - now)
    }
    this.start += WINDOW_MS
    this.count = 1
    return this.start - now
  }

  /** Runs `release` after `ms`, and after every PUBLISH held before it. */
  hold (ms: number, release: () => void): void {
    const due = Date.now() + ms
    this.held = this.held
      .then(async () => { await new Promise(resolve => setTimeout(resolve, Math.max(0, due - Date.now()))) })
      .then(release)
  }
}

const rates = new WeakMap<object, PublishRate>()

/** The rate window of one connection. */
export function rateOf (client: object): PublishRate {
  let rate = rates.get(client)
  if (rate === undefined) rates.set(client, rate = new PublishRate())
  return rate
}
