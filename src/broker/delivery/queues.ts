// The queue layer of one mountpoint (one aedes instance): a SessionQueue per
// connection, the persistence tap aedes is given, session groups for
// allow_multiple_sessions and the expiration sweeper. (max_offline_messages is
// enforced by the store.) node.ts builds it before
// the broker (aedes needs the persistence) and attaches it after.
import type { Aedes, Client, ConnectPacket } from 'aedes'
import type { BrokerCounters } from '../counters.js'
import type { Logger } from '../log.js'
import type { DurableStore } from '../store/durable-store.js'
import { overlay } from '../store/overlay.js'
import type { StoredPacket } from '../store/persistence.js'
import { connectAs, INJECTED_BROKER_ID, isStoredReplay, onParsedPacket, subscriptionsOf, type OutPacket } from './adapter.js'
import { handledHere } from './adapter-guard.js'
import { SessionGroup } from './groups.js'
import { ExpirationSweeper } from './expiration.js'
import { SessionQueue, type SessionHost, type SessionLimits } from './outbox.js'
import type { QueueSettings } from './settings.js'
import { tapPersistence } from './store-tap.js'
import { ConnectionWriter } from './writer.js'

export interface QueuesOptions {
  mountpoint: string
  settings: QueueSettings
  counters: BrokerCounters
  log: Logger
  /** the node's store for this mountpoint */
  store: DurableStore
  /** told of each message as it first goes out to a client */
  delivered?: (client: Client, packet: OutPacket) => void
  /** told of each message queued for an offline persistent session */
  offlineMessage?: (clientId: string, packet: StoredPacket) => void
  /** whether offlineMessage is to be called for the message being queued now (asked once per message) */
  offlineListens?: () => boolean
  /** told of each persistent session deleted by persistent_client_expiration */
  sessionExpired?: (clientId: string) => void
  /** client ids holding stored (persistent-session) subscriptions */
  persistentClients: () => string[]
}

export class Queues implements SessionHost {
  /** what aedes is given as its persistence */
  readonly persistence: DurableStore
  readonly settings: QueueSettings
  readonly counters: BrokerCounters
  readonly log: Logger
  readonly delivered: SessionHost['delivered']
  private readonly sessions = new WeakMap<object, SessionQueue>()
  private readonly online = new Map<string, SessionQueue>()
  private readonly groups = new Map<string, SessionGroup>()
  private readonly expiration: ExpirationSweeper
  /** per client id: the store operations deleting dropped messages, in order */
  private readonly forgetting = new Map<string, Promise<void>>()
  /** the broker's id: the brokerId of messages published on this node */
  private brokerId = ''
  /** 'close' listener of every connection's stream (aedes sets stream.client), calls closed */
  readonly onClose: (this: { client?: Client }) => void

  constructor (private readonly options: QueuesOptions) {
    this.settings = options.settings
    this.counters = options.counters
    this.log = options.log
    this.delivered = options.delivered
    const queues = this
    this.onClose = function () { if (this.client !== undefined) queues.closed(this.client) }
    this.persistence = tapPersistence(this.countOffline(options.store), client => this.sessions.get(client))
    this.expiration = new ExpirationSweeper({
      settings: this.settings,
      counters: this.counters,
      log: this.log,
      mountpoint: options.mountpoint,
      persistence: this.persistence,
      persistentClients: options.persistentClients,
      isOnline: id => this.online.has(id),
      expired: options.sessionExpired
    })
  }

  /** Hooks the layer to its broker's events; call once, right after creating the broker. */
  attach (broker: Aedes): void {
    this.brokerId = broker.id
    broker.on('client', client => {
      const session = this.sessions.get(client)
      if (session === undefined) return
      this.online.set(client.id, session)
      this.expiration.cameOnline(client.id)
    })
    broker.on('clientReady', client => {
      const session = this.sessions.get(client)
      if (session !== undefined) session.ready = true
    })
    broker.on('clientDisconnect', client => {
      if (this.online.get(client.id) !== this.sessions.get(client)) return
      this.online.delete(client.id)
      if (!client.clean) this.expiration.wentOffline(client.id)
    })
    broker.on('subscribe', (_subs, client) => { this.sessions.get(client)?.subscriptionsChanged() })
    broker.on('unsubscribe', (_topics, client) => { this.sessions.get(client)?.subscriptionsChanged() })
    this.expiration.start()
  }

  /**
   * preConnect: gives the connection its session. With allow_multiple_sessions
   * a connection whose client id is already in use here joins that id's group
   * under an internal id (and as a clean session).
   */
  connecting (client: Client, packet: ConnectPacket): void {
    const session = new SessionQueue(client, this, new ConnectionWriter(client, this))
    // acknowledgements as the client sends them, for every kind of session
    onParsedPacket(client, this.ackSeen)
    session.resume = packet.clean === false
    session.loading = session.resume
    this.sessions.set(client, session)
    if (!this.settings.multipleSessions || packet.clientId === '') return
    let group = this.groups.get(packet.clientId)
    if (group === undefined) {
      group = new SessionGroup(packet.clientId, () => this.settings.balance)
      this.groups.set(packet.clientId, group)
    }
    const id = group.join(session)
    if (id !== packet.clientId) {
      connectAs(packet, { clientId: id, clean: true })
      session.resume = false
      session.loading = false
    }
  }

  /** The client's own queue settings (an auth plugin's, at CONNECT). */
  configure (client: Client, limits: SessionLimits): void {
    const session = this.sessions.get(client)
    if (session !== undefined) session.limits = limits
  }

  /** authorizeForward: the packet aedes sends now, or null. */
  forward (client: Client, packet: OutPacket): OutPacket | null {
    if (packet.brokerId === INJECTED_BROKER_ID) return this.sessions.get(client)?.takeInjected(packet.brokerCounter) ?? null
    const session = this.sessions.get(client)
    if (session === undefined || session.closed) return packet
    // aedes replays a stored queue itself only when it discards it (see store-tap.ts)
    if (isStoredReplay(packet)) return null
    this.counters.queueIn++
    // a retained message sent at SUBSCRIBE keeps its retain flag: not a match of a publish
    if (packet.brokerId === this.brokerId && !packet.retain) this.counters.matchesLocal++
    if (session.group !== undefined) return session.group.route(session, packet)
    return session.forward(packet)
  }

  subscriptions (client: Client): ReturnType<SessionHost['subscriptions']> {
    return subscriptionsOf(client)
  }

  subscriptionsChanged (client: Client): void {
    this.sessions.get(client)?.subscriptionsChanged()
  }

  /** One listener for every connection: its session learns the acknowledgements. */
  private readonly ackSeen = (parsed: { cmd: string, messageId?: number, reasonCode?: number }, client: Client): void => {
    const session = this.sessions.get(client)
    if (session === undefined) return
    if (parsed.cmd === 'puback') {
      if (session.acked(parsed.messageId ?? 0)) handledHere(parsed)
    } else if (parsed.cmd === 'pubcomp') session.acked(parsed.messageId ?? 0)
    else if (parsed.cmd === 'pubrec') session.pubrecReceived(parsed.messageId ?? 0, parsed.reasonCode)
  }

  /** The connection's stream closed. */
  closed (client: Client): void {
    const session = this.sessions.get(client)
    if (session === undefined || session.closed) return
    const entries = session.close()
    const group = session.group
    if (group !== undefined && group.leave(session, entries)) this.groups.delete(group.clientId)
  }

  /** The connection's queue counts (`session show`), undefined for a connection without a session queue. */
  counts (client: Client): { inflight: number, waiting: number } | undefined {
    return this.sessions.get(client)?.counts
  }

  /** Messages waiting in the connected sessions' queues (not yet sent), for the status page. */
  waitingMessages (): number {
    let n = 0
    for (const session of this.online.values()) n += session.counts.waiting
    return n
  }

  isOnline (clientId: string): boolean {
    return this.online.has(clientId)
  }

  /** Deletes the stored copy of a message a session will not deliver (one at a time per client). */
  forget (clientId: string, packet: OutPacket): Promise<void> {
    const previous = this.forgetting.get(clientId) ?? Promise.resolve()
    const next = previous.then(async () => { await this.drop(clientId, packet) }).catch((err: Error) => {
      this.log.debug({ client: clientId, err: err.message }, 'cannot delete a dropped message from the store')
    })
    this.forgetting.set(clientId, next)
    return next.then(() => { if (this.forgetting.get(clientId) === next) this.forgetting.delete(clientId) })
  }

  private async drop (clientId: string, packet: OutPacket): Promise<void> {
    if (packet.brokerId != null) await this.options.store.dropQueued(clientId, packet.brokerId, packet.brokerCounter ?? 0)
  }

  /**
   * Counts the messages aedes stores for offline persistent sessions as
   * entering their queue, and matches (online sessions count both in forward),
   * and tells the offlineMessage callback of each before the store takes it.
   */
  private countOffline (store: DurableStore): DurableStore {
    const offline = this.options.offlineMessage
    return overlay(store, {
      // not async: aedes calls this for every QoS 1/2 message, mostly with no
      // persistent subscriber, and the store's answer is already a promise
      outgoingEnqueueCombi: (subs: Array<{ clientId: string, topic: string, qos: number }>, packet: Parameters<DurableStore['outgoingEnqueueCombi']>[1]): Promise<void> => {
        try {
          if (subs.length > 0) this.countQueued(subs, packet, offline)
        } catch (err) {
          return Promise.reject(err)
        }
        return store.outgoingEnqueueCombi(subs, packet)
      }
    })
  }

  private countQueued (subs: ReadonlyArray<{ clientId: string }>, packet: StoredPacket, offline: QueuesOptions['offlineMessage']): void {
    const tell = offline !== undefined && (this.options.offlineListens?.() ?? true) ? offline : undefined
    let queued = 0
    for (const sub of subs) {
      if (this.online.has(sub.clientId)) continue
      queued++
      tell?.(sub.clientId, packet)
    }
    this.counters.queueIn += queued
    if (packet.brokerId === this.brokerId) this.counters.matchesLocal += queued
  }

  stop (): void {
    this.expiration.stop()
  }
}
