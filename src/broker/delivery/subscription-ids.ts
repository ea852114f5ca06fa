// MQTT 5 Subscription Identifiers of a delivery. aedes sends a message once per
// connection however many of its subscriptions match, with the identifier of
// the subscription it matched first. MQTT-3.3.4-3/4/5 allow one PUBLISH per
// matching subscription or one carrying the identifiers of all of them: we send
// one, with all of them. Shared subscriptions ($share/...) are left out: a
// message reaches a group member as that group's delivery.
import type { OutPacket } from './adapter.js'
import { filterMatches, isShared } from '../../mqtt/topic.js'

interface SubscriptionLike { si?: number }

const CACHE_LIMIT = 1024
const NONE: readonly number[] = []

/** Per connection: topic -> identifiers of the matching subscriptions, cached until the subscriptions change. */
export class SubscriptionIds {
  /** whether any subscription has an identifier; undefined = not looked at since the last change */
  private any: boolean | undefined
  private cache: Map<string, readonly number[]> | undefined

  invalidate (): void {
    this.any = undefined
    this.cache?.clear()
  }

  lookup (subscriptions: Record<string, SubscriptionLike>, topic: string): readonly number[] {
    this.any ??= Object.values(subscriptions).some(s => s.si !== undefined)
    if (!this.any) return NONE
    const cached = this.cache?.get(topic)
    if (cached !== undefined) return cached
    const ids: number[] = []
    for (const filter in subscriptions) {
      const si = subscriptions[filter].si
      if (si !== undefined && !isShared(filter) && filterMatches(filter, topic) && !ids.includes(si)) ids.push(si)
    }
    // a miss is not cached: a filter being added right now may match on the next call
    if (ids.length > 0) {
      this.cache ??= new Map()
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
      this.cache.set(topic, ids)
    }
    return ids
  }
}

/**
 * Puts every identifier of `ids` on the packet besides the one aedes set. The
 * properties object is replaced, not changed: aedes shares it between copies.
 */
export function addSubscriptionIds (packet: OutPacket, ids: readonly number[]): void {
  if (ids.length === 0) return
  const own = packet.properties?.subscriptionIdentifier as number | number[] | undefined
  const all = own === undefined ? [] : Array.isArray(own) ? [...own] : [own]
  let added = false
  for (const id of ids) {
    if (all.includes(id)) continue
    all.push(id)
    added = true
  }
  if (!added) return
  packet.properties = { ...packet.properties, subscriptionIdentifier: all.length === 1 ? all[0] : all }
}
