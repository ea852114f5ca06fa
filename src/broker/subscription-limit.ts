// max_subscriptions_per_client: a client may hold at most that many filters;
// a SUBSCRIBE that replaces an existing filter is always allowed. The filters
// granted to a connection are counted here, from authorizeSubscribe (which also
// runs for a resumed session's stored filters) and aedes' unsubscribe event.
import type { Client } from 'aedes'

const granted = new WeakMap<Client, Set<string>>()

/** Records `topic` as granted unless that exceeds `max` (0 = unlimited); false = refuse it. */
export function grantSubscription (client: Client, topic: string, max: number): boolean {
  let topics = granted.get(client)
  if (topics === undefined) {
    topics = new Set()
    granted.set(client, topics)
  }
  if (topics.has(topic)) return true
  if (max > 0 && topics.size >= max) return false
  topics.add(topic)
  return true
}

export function subscriptionsRemoved (client: Client, topics: readonly string[]): void {
  const held = granted.get(client)
  if (held === undefined) return
  for (const topic of topics) held.delete(topic)
}
