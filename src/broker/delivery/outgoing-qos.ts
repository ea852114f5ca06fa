// The QoS a message is delivered at: min(subscription QoS, publish QoS), or the
// subscription QoS with upgrade_outgoing_qos. aedes only caps the QoS when the
// filter equals the topic, so a QoS 1 wildcard subscriber would get QoS 2
// messages at QoS 2; we look the subscription up ourselves. With overlapping
// filters the highest granted QoS wins (MQTT 5 §3.3.4), capped like aedes caps
// at a filter equal to the topic.

import { subscriptionMatches } from '../../mqtt/topic.js'

/** `lookup` flags a topic matched both by a QoS 0 filter and a higher one. */
export const OVERLAP = 4

const CACHE_LIMIT = 1024

/** Per connection: topic -> highest matching subscription QoS (| OVERLAP), cached until the subscriptions change. */
export class SubscriptionQos {
  /** made on the first hit: an idle connection keeps none */
  private cache: Map<string, number> | undefined

  invalidate (): void {
    this.cache?.clear()
  }

  /** -1 when no filter matches. */
  lookup (subscriptions: Record<string, { qos: number }>, topic: string): number {
    const cached = this.cache?.get(topic)
    if (cached !== undefined) return cached
    const found = compute(subscriptions, topic)
    // a miss is not cached: a filter being added right now may match on the next call
    if (found >= 0) {
      this.cache ??= new Map()
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
      this.cache.set(topic, found)
    }
    return found
  }
}

function compute (subscriptions: Record<string, { qos: number }>, topic: string): number {
  let max = -1
  let zero = false
  for (const filter in subscriptions) {
    if (!subscriptionMatches(filter, topic)) continue
    const qos = subscriptions[filter].qos
    if (qos > max) max = qos
    if (qos === 0) zero = true
  }
  const exact = subscriptions[topic]
  if (exact !== undefined && exact.qos < max) max = exact.qos
  return zero && max > 0 ? max | OVERLAP : max
}
