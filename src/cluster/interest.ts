// Which subscription filters a node holds, per mountpoint: the node advertises
// them to its peers, and looks up the peers' filters to route a publish once
// per interested node.
import { QlobberTrue } from 'qlobber'
import { isShared, subscriptionMatches } from '../mqtt/topic.js'

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

/** A peer's filters in one mountpoint: plain filters for routing, shared ones for group decisions. */
export class RemoteInterest {
  private readonly matcher = new QlobberTrue(MQTT_MATCHING)
  private readonly plain = new Set<string>()
  private readonly shares = new Set<string>()
  /** the plain filters that may match a `$` topic ($SYS/...): first level not a wildcard (MQTT-4.7.2-1) */
  private readonly dollarMatcher = new QlobberTrue(MQTT_MATCHING)
  private dollarFilters = 0

  add (filter: string): void {
    if (isShared(filter)) {
      this.shares.add(filter)
      return
    }
    if (this.plain.has(filter)) return
    this.plain.add(filter)
    this.matcher.add(filter)
    if (matchesDollar(filter)) {
      this.dollarMatcher.add(filter)
      this.dollarFilters++
    }
  }

  remove (filter: string): void {
    if (this.shares.delete(filter)) return
    if (!this.plain.delete(filter)) return
    this.matcher.remove(filter)
    if (matchesDollar(filter)) {
      this.dollarMatcher.remove(filter)
      this.dollarFilters--
    }
  }

  matches (topic: string): boolean {
    if (topic.startsWith('$')) return this.dollarFilters > 0 && this.dollarMatcher.test(topic)
    return this.plain.size > 0 && this.matcher.test(topic)
  }

  hasShares (): boolean {
    return this.shares.size > 0
  }

  /** the `$share/<group>/...` filters matching a topic */
  sharedMatches (topic: string): string[] {
    return [...this.shares].filter(f => subscriptionMatches(f, topic))
  }
}

function matchesDollar (filter: string): boolean {
  return !filter.startsWith('#') && !filter.startsWith('+')
}
