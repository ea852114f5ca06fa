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
  const byClient = new Map<string, HeldSubscriptions>()
  const hold = (clientId: string, topic: string, qos: number): void => {
    let held = byClient.get(clientId)
    if (held === undefined) byClient.set(clientId, held = new HeldSubscriptions())
    if (held.set(topic, qos)) interest.add(topic)
  }
  for (const { clientId, topic, qos } of existing) hold(clientId, topic, qos)
  const report = async (clientId: string): Promise<void> => {
    await changed(clientId, byClient.get(clientId)?.list ?? [])
  }
  const forget = (clientId: string, topics: Iterable<string>): void => {
    const held = byClient.get(clientId)
    if (held === undefined) return
    for (const topic of topics) if (held.delete(topic)) interest.remove(topic)
    if (held.list.length === 0) byClient.delete(clientId)
    // Peers learn of a removal without our waiting for them: a session handed
    // over inside a peer's request (takeover) must not wait on that peer, which
    // may be handing a session to us at the same moment and so not answer.
    report(clientId).catch(() => {})
  }
  // aedes stores a persistent session's SUBSCRIBE once per filter, each time
  // with the packet's whole list: one store call per list keeps a SUBSCRIBE of
  // n filters at n writes instead of n².
  const stored = new WeakMap<StoredSubscription[], Promise<void>>()
  const add = async (client: ClientRef, subs: StoredSubscription[]): Promise<void> => {
    await persistence.addSubscriptions(client, subs)
    for (const { topic, qos } of subs) hold(client.id, topic, qos)
    await report(client.id)
  }
  const overrides: Partial<Persistence> = {
    addSubscriptions: async (client: ClientRef, subs: StoredSubscription[]) => {
      let pending = stored.get(subs)
      if (pending === undefined) {
        pending = add(client, subs)
        stored.set(subs, pending)
      }
      await pending
    },
    removeSubscriptions: async (client: ClientRef, topics: string[]) => {
      await persistence.removeSubscriptions(client, topics)
      forget(client.id, topics)
    },
    cleanSubscriptions: async (client: ClientRef) => {
      await persistence.cleanSubscriptions(client)
      forget(client.id, byClient.get(client.id)?.list.map(sub => sub.topic) ?? [])
    }
  }
  const proxy = overlay(persistence, overrides as Record<string, unknown>)
  for (const clientId of byClient.keys()) void report(clientId)
  return { persistence: proxy, clients: () => [...byClient.keys()] }
}

/**
 * One session's subscriptions as a list kept up to date in place: every
 * SUBSCRIBE reports the whole list, and building it anew each time made a
 * session of n filters cost n² (most of it garbage collection).
 */
class HeldSubscriptions {
  readonly list: StoredSubscription[] = []
  private readonly at = new Map<string, number>()

  /** True when the topic is new to the session. */
  set (topic: string, qos: number): boolean {
    const index = this.at.get(topic)
    if (index !== undefined) {
      this.list[index] = { topic, qos }
      return false
    }
    this.at.set(topic, this.list.length)
    this.list.push({ topic, qos })
    return true
  }

  /** True when the topic was held. */
  delete (topic: string): boolean {
    const index = this.at.get(topic)
    if (index === undefined) return false
    this.at.delete(topic)
    const last = this.list.pop() as StoredSubscription
    if (index < this.list.length) {
      this.list[index] = last
      this.at.set(last.topic, index)
    }
    return true
  }
}
