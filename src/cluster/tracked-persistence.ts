// Persistent sessions keep their subscriptions while offline, and a node must
// keep receiving their messages from its peers: this wrapper reports the
// subscriptions aedes stores (persistent sessions only) to the node's interest.
import type { LocalInterest } from './interest.js'
import type { ClientRef, Persistence, StoredSubscription } from '../broker/store/persistence.js'

export interface Tracked<P> {
  persistence: P
  /** client ids holding stored (persistent-session) subscriptions */
  clients: () => string[]
}

export function trackSubscriptions<P extends Persistence> (persistence: P, interest: LocalInterest): Tracked<P> {
  const byClient = new Map<string, Set<string>>()
  const forget = (clientId: string, topics: Iterable<string>): void => {
    const held = byClient.get(clientId)
    if (held === undefined) return
    for (const topic of topics) if (held.delete(topic)) interest.remove(topic)
    if (held.size === 0) byClient.delete(clientId)
  }
  const overrides: Partial<Persistence> = {
    addSubscriptions: async (client: ClientRef, subs: StoredSubscription[]) => {
      await persistence.addSubscriptions(client, subs)
      let held = byClient.get(client.id)
      if (held === undefined) byClient.set(client.id, held = new Set())
      for (const { topic } of subs) {
        if (!held.has(topic)) {
          held.add(topic)
          interest.add(topic)
        }
      }
    },
    removeSubscriptions: async (client: ClientRef, topics: string[]) => {
      await persistence.removeSubscriptions(client, topics)
      forget(client.id, topics)
    },
    cleanSubscriptions: async (client: ClientRef) => {
      await persistence.cleanSubscriptions(client)
      forget(client.id, [...(byClient.get(client.id) ?? [])])
    }
  }
  const proxy = new Proxy(persistence, {
    get (target, key, receiver) {
      if (typeof key === 'string' && key in overrides) return overrides[key as keyof Persistence]
      const value = Reflect.get(target, key, receiver) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
  return { persistence: proxy, clients: () => [...byClient.keys()] }
}
