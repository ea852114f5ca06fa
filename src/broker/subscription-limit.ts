// max_subscriptions_per_client: a client may hold at most that many filters;
// a SUBSCRIBE that replaces an existing filter is always allowed. The filters
// granted to a connection are counted here, from authorizeSubscribe (which also
// runs for a resumed session's stored filters) and aedes' unsubscribe event.
import type { Client } from 'aedes'
import { editSuback } from './delivery/adapter.js'
import { subscribePacketOf } from './subscribe-packets.js'

const NOT_AUTHORIZED = 0x87
const QUOTA_EXCEEDED = 0x97

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

/** the reason code each refused filter gets instead of aedes' 0x87 */
const reasons = new WeakMap<object, number>()
const editing = new WeakSet<object>()

/**
 * MQTT 5: the SUBACK answers `sub`, refused for max_subscriptions_per_client,
 * with 0x97 (Quota exceeded) instead of the 0x87 aedes gives every refusal.
 */
export function answerQuotaExceeded (client: Client, sub: object): void {
  answerRefusal(client, sub, QUOTA_EXCEEDED)
}

/** MQTT 5: the SUBACK answers the refused filter `sub` with `reasonCode` instead of 0x87. */
export function answerRefusal (client: Client, sub: object, reasonCode: number): void {
  if (client.version !== 5) return
  const packet = subscribePacketOf(sub)
  if (packet?.messageId === undefined) return
  reasons.set(sub, reasonCode)
  if (editing.has(packet)) return
  editing.add(packet)
  editSuback(client, packet.messageId, granted => {
    // aedes answers the packet's filters in order, once each (packet.subscriptions, deduplicated in place)
    const subs = packet.subscriptions ?? []
    for (let i = 0; i < granted.length; i++) {
      const reason = subs[i] === undefined ? undefined : reasons.get(subs[i])
      if (granted[i] === NOT_AUTHORIZED && reason !== undefined) granted[i] = reason
    }
  })
}
