// What happens to the clients of one mountpoint, told to the plugins that
// listen (webhooks' on_* hooks): registered (then woken up), published,
// subscribed, unsubscribed, delivered to, and gone (clean session) or offline
// (persistent session). Nothing is built while no plugin listens.
import type { Aedes, Client } from 'aedes'
import type { AuthChain } from './auth/chain.js'
import { isSkipped, type OutPacket } from './delivery/adapter.js'
import { clientInfo } from './policy/context.js'
import type { ClientInfo } from './auth/types.js'
import { publicClientId } from './delivery/groups.js'
import type { StoredPacket } from './store/persistence.js'

/** aedes answers a refused MQTT 5 SUBSCRIBE filter with its reason code; VerneMQ tells 128. */
const REFUSED = 128

export function tellClientEvents (broker: Aedes, chain: AuthChain): void {
  broker.on('client', client => {
    if (!chain.listens()) return
    const info = clientInfo(client)
    chain.notify({ kind: 'register', client: info })
    chain.notify({ kind: 'wakeup', client: info })
  })
  broker.on('publish', (packet, client) => {
    if (client === null || client === undefined || !chain.listens() || isSkipped(packet)) return
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    chain.notify({ kind: 'publish', client: clientInfo(client), topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, properties: packet.properties as Record<string, unknown> | undefined })
  })
  broker.on('subscribe', (subs, client) => {
    if (!chain.listens()) return
    chain.notify({ kind: 'subscribe', client: clientInfo(client), topics: subs.map(s => ({ topic: s.topic, qos: s.qos >= REFUSED ? REFUSED : s.qos })) })
  })
  broker.on('unsubscribe', (topics, client) => {
    if (!chain.listens()) return
    chain.notify({ kind: 'unsubscribe', client: clientInfo(client), topics })
  })
  broker.on('clientDisconnect', client => {
    if (!chain.listens()) return
    chain.notify({ kind: client.clean ? 'gone' : 'offline', client: clientInfo(client) })
  })
}

/** The Queues callbacks for offline sessions: on_offline_message and on_session_expired. */
export function tellOffline (chain: AuthChain, mountpoint: string): { offlineMessage: (clientId: string, packet: StoredPacket) => void, offlineListens: () => boolean, sessionExpired: (clientId: string) => void } {
  const who = (clientId: string): ClientInfo => ({ clientId: publicClientId(clientId), username: undefined, mountpoint })
  return {
    // Queues asks offlineListens once per message, not once per offline session
    offlineListens: () => chain.listens(),
    offlineMessage: (clientId, packet) => {
      chain.notify({ kind: 'offline_message', client: who(clientId), topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain })
    },
    sessionExpired: clientId => {
      if (chain.listens()) chain.notify({ kind: 'expired', client: who(clientId) })
    }
  }
}

/** The Queues `delivered` callback: on_deliver for each message as it first goes out. */
export function tellDelivered (chain: AuthChain): (client: Client, packet: OutPacket) => void {
  return (client, packet) => {
    if (!chain.listens()) return
    chain.notify({ kind: 'deliver', client: clientInfo(client), topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, properties: packet.properties })
  }
}
