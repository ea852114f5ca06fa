// The answer cache of the auth hooks: an endpoint that grants a call with
// `cache-control: max-age=N` is not asked the same thing again for N seconds.
// "The same thing" is the request body without the payload and the peer port
// (VerneMQ's key); only grants are kept, without a payload modifier.

/** Beyond this many entries, expired ones are swept and new grants are not kept until there is room. */
const MAX_ENTRIES = 100_000

export type CacheStat = 'hits' | 'misses' | 'entries'

interface Entry { endpoint: string, hook: string, expires: number, modifiers: Record<string, unknown> }

export class AnswerCache {
  private readonly entries = new Map<string, Entry>()
  private readonly stats = new Map<string, number>()

  constructor (private readonly now: () => number = Date.now) {}

  lookup (endpoint: string, hook: string, args: Record<string, unknown>): Record<string, unknown> | undefined {
    const key = cacheKey(endpoint, hook, args)
    const entry = this.entries.get(key)
    if (entry !== undefined && entry.expires <= this.now()) {
      this.entries.delete(key)
      this.count('entries', endpoint, hook, -1)
    }
    const live = entry !== undefined && entry.expires > this.now() ? entry : undefined
    this.count(live === undefined ? 'misses' : 'hits', endpoint, hook, 1)
    return live?.modifiers
  }

  insert (endpoint: string, hook: string, args: Record<string, unknown>, maxAgeSeconds: number, modifiers: Record<string, unknown>): void {
    if (maxAgeSeconds <= 0) return
    if (this.entries.size >= MAX_ENTRIES) this.sweep()
    if (this.entries.size >= MAX_ENTRIES) return
    const key = cacheKey(endpoint, hook, args)
    const kept = { ...modifiers }
    delete kept.payload
    if (!this.entries.has(key)) this.count('entries', endpoint, hook, 1)
    this.entries.set(key, { endpoint, hook, expires: this.now() + maxAgeSeconds * 1000, modifiers: kept })
  }

  /** Counters for `webhooks cache show`: one row per stat, endpoint and hook. */
  rows (): Array<{ stat: CacheStat, endpoint: string, hook: string, value: number }> {
    return [...this.stats].map(([key, value]) => {
      const [stat, endpoint, hook] = JSON.parse(key) as [CacheStat, string, string]
      return { stat, endpoint, hook, value }
    })
  }

  resetStats (): void {
    this.stats.clear()
    const counts = new Map<string, number>()
    for (const e of this.entries.values()) counts.set(statKey('entries', e.endpoint, e.hook), (counts.get(statKey('entries', e.endpoint, e.hook)) ?? 0) + 1)
    for (const [k, v] of counts) this.stats.set(k, v)
  }

  clear (): void {
    this.entries.clear()
    this.stats.clear()
  }

  private sweep (): void {
    const now = this.now()
    for (const [key, e] of this.entries) {
      if (e.expires > now) continue
      this.entries.delete(key)
      this.count('entries', e.endpoint, e.hook, -1)
    }
  }

  private count (stat: CacheStat, endpoint: string, hook: string, by: number): void {
    const key = statKey(stat, endpoint, hook)
    this.stats.set(key, (this.stats.get(key) ?? 0) + by)
  }
}

function statKey (stat: CacheStat, endpoint: string, hook: string): string {
  return JSON.stringify([stat, endpoint, hook])
}

function cacheKey (endpoint: string, hook: string, args: Record<string, unknown>): string {
  const { payload: _payload, peer_port: _port, ...rest } = args
  return JSON.stringify([endpoint, hook, rest])
}
