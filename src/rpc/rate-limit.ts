// Log lines about refused callers, at most one per caller and period: a
// refused peer that retries every second must not flood the log.
const MAX_KEYS = 1000

export class OncePer {
  private readonly seen = new Map<string, { at: number, since: number }>()

  constructor (private readonly ms: number) {}

  /** The number of hits held back since the last yes, or undefined when this one is held back too. */
  hit (key: string): number | undefined {
    const now = Date.now()
    const seen = this.seen.get(key)
    if (seen !== undefined && now - seen.at < this.ms) {
      seen.since++
      return undefined
    }
    if (this.seen.size >= MAX_KEYS) this.seen.clear()
    this.seen.set(key, { at: now, since: 0 })
    return seen?.since ?? 0
  }
}
