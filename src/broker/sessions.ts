// Local sessions per mountpoint: which client ids are connected here, and how a
// session moves between nodes (handed over by the old node, adopted by the new).
import type { Aedes, Client } from 'aedes'
import { dropWill } from './delivery/adapter.js'
import { publicClientId } from './delivery/groups.js'
import type { StoredPacket, StoredSubscription } from './store/persistence.js'
import type { DurableStore } from './store/durable-store.js'
import type { Subscription, Subscription__Output } from '../rpc/generated/vmq/Subscription.js'
import type { SessionHandover, SessionHandover__Output } from '../rpc/generated/vmq/SessionHandover.js'
import { isExpired, propertiesFromWire, propertiesToWire } from '../cluster/properties.js'

export class SessionRegistry {
  private readonly online = new Map<string, Map<string, Client>>()
  private readonly started = new WeakMap<Client, number>()

  track (mountpoint: string, broker: Aedes): void {
    const clients = new Map<string, Client>()
    this.online.set(mountpoint, clients)
    broker.on('client', client => {
      clients.set(client.id, client)
      this.started.set(client, Date.now())
    })
    broker.on('clientDisconnect', client => { if (clients.get(client.id) === client) clients.delete(client.id) })
  }

  client (mountpoint: string, clientId: string): Client | undefined {
    return this.online.get(mountpoint)?.get(clientId)
  }

  /** Every connection of a client id (several with allow_multiple_sessions). */
  connections (mountpoint: string, clientId: string): Client[] {
    const clients = this.online.get(mountpoint)
    if (clients === undefined) return []
    return [...clients.values()].filter(c => publicClientId(c.id) === clientId)
  }

  count (): number {
    let n = 0
    for (const clients of this.online.values()) n += clients.size
    return n
  }

  /** when the client's session started (CONNACK), ms since the epoch */
  startedAt (client: Client): number | undefined {
    return this.started.get(client)
  }

  all (): Array<{ mountpoint: string, client: Client }> {
    return [...this.online].flatMap(([mountpoint, clients]) => [...clients.values()].map(client => ({ mountpoint, client })))
  }
}

/**
 * Gives up a session: disconnects the client if it is connected here (without
 * publishing its will when `withoutWill`: suppress_lwt_on_session_takeover) and, unless
 * the new session is clean, returns its subscriptions and queued messages.
 * Either way nothing of the session stays on this node.
 */
export async function handOver (persistence: DurableStore | undefined, online: Client | undefined, clientId: string, clean: boolean, withoutWill = false): Promise<SessionHandover> {
  if (persistence === undefined) return { found: false }
  if (online !== undefined) {
    if (withoutWill) dropWill(online)
    await new Promise<void>(resolve => { online.close(() => resolve()) })
  }
  const ref = { id: clientId }
  const subscriptions = (await persistence.subscriptionsByClient(ref)) ?? []
  const stored = persistence.hasSession(clientId)
  // without its subscriptions here, nothing new is queued for the session while it moves
  if (subscriptions.length > 0 || stored) await persistence.cleanSubscriptions(ref)
  const messages = await persistence.takeQueue(clientId)
  const found = online !== undefined || stored || subscriptions.length > 0 || messages.length > 0
  if (clean) return { found }
  const now = Date.now()
  return {
    found,
    subscriptions: subscriptions.map(subscriptionToWire),
    // a message whose lifetime ended while it waited is not delivered (MQTT-3.3.2-5)
    messages: messages.filter(m => !isExpired(m, now)).map(m => ({
      topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, properties: propertiesToWire(m, now)
    }))
  }
}

/** A subscription with its MQTT 5 options, as it travels to another node. */
function subscriptionToWire (s: StoredSubscription): Subscription {
  return { topic: s.topic, qos: s.qos, rh: s.rh, rap: s.rap, nl: s.nl, subscriptionIdentifier: s.subscriptionIdentifier }
}

function subscriptionFromWire (s: Subscription__Output): StoredSubscription {
  const sub: StoredSubscription = { topic: s.topic, qos: s.qos, rh: s.rh, rap: s.rap, nl: s.nl }
  if (s.subscriptionIdentifier !== undefined) sub.subscriptionIdentifier = s.subscriptionIdentifier
  return sub
}

let handoverCounter = 0

/** Takes over what other nodes handed over: subscriptions and queued messages, in order. */
export async function adopt (broker: Aedes, persistence: DurableStore, clientId: string, handovers: SessionHandover__Output[]): Promise<void> {
  for (const h of handovers) {
    if (h.subscriptions.length > 0) await persistence.addSubscriptions({ id: clientId }, h.subscriptions.map(subscriptionFromWire))
    for (const m of h.messages) {
      const packet: StoredPacket = { cmd: 'publish', topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, brokerId: `${broker.id}/handover`, brokerCounter: ++handoverCounter }
      if (m.properties !== null) Object.assign(packet, propertiesFromWire(m.properties, Date.now()))
      await persistence.outgoingEnqueueCombi([{ clientId, topic: m.topic, qos: m.qos }], packet)
    }
  }
}
