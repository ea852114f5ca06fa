// Persistent sessions keep their subscriptions while offline, and a node must
// keep receiving their messages from its peers: this wrapper reports the
// subscriptions aedes stores (persistent sessions only) to the node's interest.
import { overlay } from '../broker/store/overlay.js'
import type { LocalInterest } from './interest.js'
import type { ClientRef, Persistence, StoredSubscription } from '../broker/store/persistence.js'

export interface Tracked<P> {
  persistence: P
  /** client ids holding stored (persistent-session) subscriptions */
  clients: () => string[]
}

/** Called with a persistent session's subscriptions whenever they change ([] = none left). */
export type SessionChanged = (clientId: string, subscriptions: StoredSubscription[]) => Promise<void>

export function trackSubscriptions<P extends Persistence> (
  persistence: P,
  interest: LocalInterest,
  changed: SessionChanged = async () => {},
  /** subscriptions the persistence already holds (after a restart) */
  existing: Array<{ clientId: string, topic: string, qos: number }> = []
): Tracked<P> {
  const byClient = new Map<string, Map<string, number>>()
  for (const { clientId, topic, qos } of existing) {
    let held = byClient.get(clientId)
    if (held === undefined) byClient.set(clientId, held = new Map())
    if (!held.has(topic)) interest.add(topic)
    held.set(topic, qos)
  }
  const report = async (clientId: string): Promise<void> => {
    await changed(clientId, [...(byClient.get(clientId) ?? [])].map(([topic, qos]) => ({ topic, qos })))
  }
  const forget = (clientId: string, topics: Iterable<string>): void => {
    const held = byClient.get(clientId)
    if (held === undefined) return
    for (const topic of topics) if (held.delete(topic)) interest.remove(topic)
    if (held.size === 0) byClient.delete(clientId)
    // Peers learn of a removal without our waiting for them: a session handed
    // over inside a peer's request (takeover) must not wait on that peer, which
    // may be handing a session to us at the same moment and so not answer.
    report(clientId).catch(() => {})
  }
  const overrides: Partial<Persistence> = {
    addSubscriptions: async (client: ClientRef, subs: StoredSubscription[]) => {
      await persistence.addSubscriptions(client, subs)
      let held = byClient.get(client.id)
      if (held === undefined) byClient.set(client.id, held = new Map())
      for (const { topic, qos } of subs) {
        if (!held.has(topic)) interest.add(topic)
        held.set(topic, qos)
      }
      await report(client.id)
    },
    removeSubscriptions: async (client: ClientRef, topics: string[]) => {
      await persistence.removeSubscriptions(client, topics)
      forget(client.id, topics)
    },
    cleanSubscriptions: async (client: ClientRef) => {
      await persistence.cleanSubscriptions(client)
      forget(client.id, [...(byClient.get(client.id)?.keys() ?? [])])
    }
  }
  const proxy = overlay(persistence, overrides as Record<string, unknown>)
  for (const clientId of byClient.keys()) void report(clientId)
  return { persistence: proxy, clients: () => [...byClient.keys()] }
}
