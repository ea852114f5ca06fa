// Which subscription filters a node holds, per mountpoint: the node advertises
// them to its peers, and looks up the peers' filters to route a publish once
// per interested node.
import { QlobberTrue } from 'qlobber'

const MQTT_MATCHING = { separator: '/', wildcard_one: '+', wildcard_some: '#', match_empty_levels: true }

/** Reference counts of local filters; reports when a filter appears or disappears. */
export class LocalInterest {
  private readonly counts = new Map<string, number>()

  constructor (private readonly changed: (filter: string, present: boolean) => void) {}

  add (filter: string): void {
    const n = this.counts.get(filter) ?? 0
    this.counts.set(filter, n + 1)
    if (n === 0) this.changed(filter, true)
  }

  remove (filter: string): void {
    const n = this.counts.get(filter) ?? 0
    if (n <= 1) {
      if (this.counts.delete(filter)) this.changed(filter, false)
    } else {
      this.counts.set(filter, n - 1)
    }
  }

  filters (): string[] {
    return [...this.counts.keys()]
  }
}

/** A peer's filters in one mountpoint, for matching topics. */
export class RemoteInterest {
  private readonly matcher = new QlobberTrue(MQTT_MATCHING)
  private readonly filters = new Set<string>()

  add (filter: string): void {
    if (this.filters.has(filter)) return
    this.filters.add(filter)
    this.matcher.add(matchable(filter))
  }

  remove (filter: string): void {
    if (!this.filters.delete(filter)) return
    const key = matchable(filter)
    // several shared groups may map to one matchable filter
    if (![...this.filters].some(f => matchable(f) === key)) this.matcher.remove(key)
  }

  matches (topic: string): boolean {
    return this.matcher.test(topic)
  }

  /** the `$share/<group>/...` filters matching a topic */
  sharedMatches (topic: string): string[] {
    return [...this.filters].filter(f => f.startsWith('$share/') && topicMatches(matchable(f), topic))
  }
}

/** `$share/<group>/<filter>` matches what <filter> matches. */
export function matchable (filter: string): string {
  if (!filter.startsWith('$share/')) return filter
  const rest = filter.slice('$share/'.length)
  const slash = rest.indexOf('/')
  return slash < 0 ? rest : rest.slice(slash + 1)
}

/** MQTT topic matching of one filter (used off the hot path). */
export function topicMatches (filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  if (t[0].startsWith('$') && (f[0] === '#' || f[0] === '+')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}
