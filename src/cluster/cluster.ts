// Cluster membership and routing for one node: who the members are (kept in
// the data dir), a link to each of them, their subscription filters, and the
// operations that cross nodes (routing, retained replication, takeover, leave).
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { vmqProto } from '../rpc/proto.js'
import { COOKIE_METADATA } from '../rpc/server.js'
import { channel, explainTlsFailure, type ClientTls } from '../rpc/tls.js'
import type { Hello } from '../rpc/generated/vmq/Hello.js'
import type { SessionInfo } from '../rpc/generated/vmq/SessionInfo.js'
import type { Member, Member__Output } from '../rpc/generated/vmq/Member.js'
import type { MqttEndpoint, MqttEndpoint__Output } from '../rpc/generated/vmq/MqttEndpoint.js'
import type { Properties } from '../rpc/generated/vmq/Properties.js'
import type { Publish } from '../rpc/generated/vmq/Publish.js'
import type { Retain } from '../rpc/generated/vmq/Retain.js'
import type { SessionHandover, SessionHandover__Output } from '../rpc/generated/vmq/SessionHandover.js'
import type { JoinReply__Output } from '../rpc/generated/vmq/JoinReply.js'
import { parseNodeRef } from './address.js'
import { HybridClock } from './clock.js'
import { LocalInterest, RemoteInterest } from './interest.js'
import { assignShares, peerRoute, type PeerView } from './routing.js'
import { MemberStore, type MemberRecord } from './members.js'
import { PeerLink } from './peer-link.js'
import { propertiesToWire, type PublishProperties } from './properties.js'
import type { RoutedPacket } from './router.js'

export class ClusterError extends Error {}

const NONE: ReadonlySet<string> = new Set()
/** A link's dropped routed publishes are logged at most this often, with their count. */
const DROP_LOG_INTERVAL_MS = 10000
/** How often waiting publishes look again at links whose first connect grace may have run out. */
const TABLE_POLL_MS = 50

/** What the cluster needs from its node. */
export interface ClusterHost {
  readonly name: string
  readonly log: Logger
  cookie: () => string
  /** host:port other nodes reach this node's clustering listener at */
  address: () => string
  /** this node's running MQTT listeners as clients reach them */
  mqttEndpoints: () => MqttEndpoint[]
  /** what this node's connections to members trust and present when the cluster listener is vmqs; undefined = plain */
  tls: () => ClientTls | undefined
  /** hands routed publishes to local delivery in order; resolves once all are delivered (offline queues included) */
  deliverRemote: (publishes: Publish[]) => Promise<void>
  storeRetained: (retain: Retain) => Promise<void>
  retainedMessages: () => Promise<Retain[]>
  handover: (mountpoint: string, clientId: string, clean: boolean) => Promise<SessionHandover>
  adopt: (mountpoint: string, clientId: string, session: SessionHandover__Output) => Promise<void>
  /** timeout for requests to peers, ms */
  requestTimeout: () => number
  /** shared_subscription_policy */
  sharePolicy: () => string
  /** allow_publish_during_netsplit */
  publishDuringNetsplit: () => boolean
  /** a member's link came up (again): catch up with state it may have changed meanwhile */
  memberReachable?: (name: string, address: string) => void
}

export interface MemberStatus { name: string, running: boolean, reason: string }

export interface LeaveOptions { kill: boolean, timeoutSeconds: number, progress: (line: string) => void }

export class Cluster {
  private readonly members = new Map<string, MemberRecord>()
  private readonly links = new Map<string, PeerLink>()
  private readonly remote = new Map<string, Map<string, RemoteInterest>>()
  private readonly local = new Map<string, LocalInterest>()
  /** persistent sessions: this node's, and each peer's as it reported them (mountpoint + NUL + client id -> subscriptions) */
  private readonly localSessions = new Map<string, SessionInfo>()
  private readonly peerSessions = new Map<string, Map<string, SessionInfo>>()
  /** each peer's MQTT listeners, as it last told us */
  private readonly endpoints = new Map<string, MqttEndpoint__Output[]>()
  private readonly store: MemberStore
  private readonly retainClock = new Map<string, number>()
  private readonly clock = new HybridClock()
  private joinRetry: NodeJS.Timeout | undefined
  private closed = false
  /** peer -> the inbound link whose Hello gave us its subscription table */
  private readonly tables = new Map<string, object>()
  private tableWaiters: Array<() => void> = []
  private tablePoll: NodeJS.Timeout | undefined
  /** routed publishes dropped by links (peer unreachable, too slow, or removed with publishes unconfirmed) */
  routedDropped = 0
  /** routed publishes dropped, by member */
  readonly routedDroppedBy = new Map<string, number>()
  /** bytes of the routed publishes dropped */
  bytesDropped = 0
  /** links to members that went down (netsplit_detected) and came up again (netsplit_resolved) */
  netsplitsDetected = 0
  netsplitsResolved = 0
  /** publishes of this node sent to a member (once per member with matching subscriptions) */
  matchesRemote = 0
  /** per peer: drops not logged yet, and when the last log line was written */
  private readonly dropLog = new Map<string, { count: number, at: number }>()
  /** leave -k handler, set by the node */
  onLeaveRequest: ((opts: LeaveOptions) => Promise<string>) | undefined

  constructor (private readonly host: ClusterHost, dataDir: string) {
    this.store = new MemberStore(dataDir)
  }

  private get log (): Logger { return this.host.log }

  /** Reconnects to the members known from a previous run, or joins `discovery`. */
  start (discovery: string): void {
    this.members.set(this.host.name, { name: this.host.name, address: this.host.address() })
    for (const m of this.store.load()) if (m.name !== this.host.name) this.addMember(m)
    this.saveMembers()
    if (discovery !== '' && this.links.size === 0) this.joinInBackground(discovery, 1)
  }

  private joinInBackground (discovery: string, attempt: number): void {
    this.join(discovery).then(
      () => { this.log.info({ discovery }, 'joined the cluster') },
      (err: Error) => {
        if (this.closed || err.message.startsWith('non_empty_node')) return
        const delay = Math.min(1000 * attempt, 10000)
        this.log.warn({ discovery, attempt }, `cannot join the cluster yet: ${err.message}; retrying in ${delay} ms`)
        this.joinRetry = setTimeout(() => { this.joinInBackground(discovery, attempt + 1) }, delay)
      })
  }

  // ---- membership ----

  show (): MemberStatus[] {
    return [...this.members.values()].map(m => {
      if (m.name === this.host.name) return { name: m.name, running: true, reason: '' }
      const link = this.links.get(m.name)
      return { name: m.name, running: link?.up === true, reason: link?.lastError ?? 'no link' }
    })
  }

  /** The other members: where their clustering listener is and whether their link is up. */
  peers (): Array<MemberRecord & { running: boolean, reason: string }> {
    return [...this.members.values()].filter(m => m.name !== this.host.name).map(m => {
      const link = this.links.get(m.name)
      return { ...m, running: link?.up === true, reason: link?.lastError || 'no link' }
    })
  }

  /** All members reachable: VerneMQ's "cluster ready"; otherwise a netsplit. */
  ready (): boolean {
    for (const link of this.links.values()) if (link.split) return false
    return true
  }

  hasPeers (): boolean { return this.links.size > 0 }

  /** What this node's connections to members use (see ClusterHost.tls). */
  clientTls (): ClientTls | undefined { return this.host.tls() }

  /** host:port of a member's clustering listener, when it is running. */
  runningAddress (name: string): string | undefined {
    return this.links.get(name)?.up === true ? this.members.get(name)?.address : undefined
  }

  async join (spec: string): Promise<void> {
    const ref = parseNodeRef(spec)
    if (ref.name === this.host.name || ref.address === this.host.address()) throw new ClusterError('self_join: a node cannot join itself')
    if (this.links.size > 0) {
      throw new ClusterError(`non_empty_node: this node is already a member of a cluster with ${[...this.links.keys()].join(', ')}; run cluster leave first`)
    }
    const reply = await this.callJoin(ref.address)
    for (const m of reply.members) if (m.name !== this.host.name) this.addMember({ name: m.name, address: m.address })
    this.saveMembers()
  }

  private async callJoin (address: string): Promise<JoinReply__Output> {
    const { credentials, options } = channel(address, this.host.tls())
    const client = new (vmqProto().Cluster)(address, credentials, options)
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.host.cookie())
    try {
      return await new Promise<JoinReply__Output>((resolve, reject) => {
        client.Join({ node: { name: this.host.name, address: this.host.address() } }, metadata, { deadline: Date.now() + 5000 }, (err, reply) => {
          if (err !== null) joinFailure(address, err, this.host.tls()).then(reason => { reject(new ClusterError(reason)) }, reject)
          else resolve(reply as JoinReply__Output)
        })
      })
    } finally {
      client.close()
    }
  }

  /** A node asks to join through us. */
  acceptJoin (node: Member): Member[] {
    if (node.name === undefined || node.address === undefined || node.name === '') throw new ClusterError('join request without a node name')
    if (node.name === this.host.name) throw new ClusterError(`self_join: ${node.name} is this node`)
    this.addMember({ name: node.name, address: node.address })
    this.saveMembers()
    this.broadcast({ members: { members: this.memberList() } })
    this.log.info({ member: node.name, address: node.address }, 'a node joined the cluster')
    return this.memberList()
  }

  /** A Link stream is accepted only from a node in the member list (one that joined, or was told of by a member). */
  isMember (name: string): boolean {
    return name !== '' && name !== this.host.name && this.members.has(name)
  }

  private memberList (): Member[] {
    return [...this.members.values()].map(m => m.name === this.host.name ? this.self() : m)
  }

  /** This node as it tells peers about itself: with its MQTT listeners. */
  private self (): Member {
    return { name: this.host.name, address: this.host.address(), mqtt: this.host.mqttEndpoints() }
  }

  /**
   * What a peer says about itself (`entries`: its Hello's sender, or a member
   * list it sent): its MQTT listeners, and its cluster address, which changes
   * when it restarts with a cluster listener on port 0. Only the peer's own
   * entry, from its own authenticated link, may move its address.
   */
  learnFromPeer (peer: string, entries: Member__Output[]): void {
    const own = entries.find(m => m.name === peer)
    if (own === undefined) return
    this.endpoints.set(peer, own.mqtt ?? [])
    const known = this.members.get(peer)
    if (known === undefined || own.address === '' || own.address === known.address) return
    this.log.info({ member: peer, was: known.address, address: own.address }, 'cluster member is at a new address')
    this.addMember({ name: peer, address: own.address })
    this.saveMembers()
  }

  /** A member's MQTT listeners as it last reported them (none known: []). */
  endpointsOf (name: string): readonly MqttEndpoint__Output[] {
    return this.endpoints.get(name) ?? []
  }

  /** This node's MQTT listeners changed: tell the peers (a link that is down hears of them in its Hello). */
  listenersChanged (): void {
    this.broadcast({ members: { members: [this.self()] } })
  }

  /** Learns of members (from a join, a hello or a member list). */
  mergeMembers (members: Member[]): void {
    let changed = false
    for (const m of members) {
      if (m.name === undefined || m.address === undefined || m.name === this.host.name || this.members.has(m.name)) continue
      this.addMember({ name: m.name, address: m.address })
      changed = true
    }
    if (changed) this.saveMembers()
  }

  private addMember (m: MemberRecord): void {
    const known = this.members.get(m.name)
    if (known !== undefined && known.address === m.address && this.links.has(m.name)) return
    this.links.get(m.name)?.close()
    this.members.set(m.name, m)
    const link = new PeerLink(m.name, m.address, this.host.cookie, {
      hello: () => this.hello(),
      up: (l, again) => {
        if (again) this.netsplitsResolved++
        this.linkUp(l)
      },
      down: (l, reason, wasUp) => {
        if (wasUp) this.netsplitsDetected++
        this.log.warn({ member: l.name, reason }, 'cluster member unreachable')
      },
      dropped: (l, count, bytes) => {
        this.bytesDropped += bytes
        this.routeDropped(l.name, count)
      }
    }, this.host.tls())
    this.links.set(m.name, link)
    link.start()
  }

  removeMember (name: string): void {
    this.links.get(name)?.close(true)
    this.links.delete(name)
    this.remote.delete(name)
    this.tables.delete(name)
    this.peerSessions.delete(name)
    this.endpoints.delete(name)
    if (this.members.delete(name)) {
      this.saveMembers()
      this.log.info({ member: name }, 'member removed from the cluster')
    }
  }

  private saveMembers (): void {
    this.store.save(this.members.values())
  }

  private hello (): Hello {
    return {
      from: this.self(),
      members: this.memberList(),
      filters: [...this.local.entries()].map(([mountpoint, interest]) => ({ mountpoint, filters: interest.filters() })),
      sessions: [...this.localSessions.values()]
    }
  }

  // ---- persistent sessions directory ----

  /**
   * A local persistent session's subscriptions changed ([] = gone); resolves
   * once every reachable peer has recorded it (the SUBACK waits for this, so a
   * node that dies right after it cannot take the news with it).
   */
  async sessionChanged (mountpoint: string, clientId: string, subscriptions: Array<{ topic: string, qos: number }>): Promise<void> {
    const info: SessionInfo = { mountpoint, clientId, subscriptions }
    const key = sessionKey(mountpoint, clientId)
    if (subscriptions.length === 0) this.localSessions.delete(key)
    else this.localSessions.set(key, info)
    const timeout = this.host.requestTimeout()
    await Promise.allSettled(this.runningPeers().map(async link => await link.request({ session: info }, timeout)))
  }

  /** A peer's persistent session, from its hello (replace = all of them) or a change. */
  peerSession (peer: string, info: SessionInfo, replace = false): void {
    let sessions = this.peerSessions.get(peer)
    if (sessions === undefined || replace) this.peerSessions.set(peer, sessions = new Map())
    const key = sessionKey(info.mountpoint ?? '', info.clientId ?? '')
    if ((info.subscriptions ?? []).length === 0) sessions.delete(key)
    else sessions.set(key, info)
  }

  resetPeerSessions (peer: string): void {
    this.peerSessions.set(peer, new Map())
  }

  /**
   * Gives the persistent sessions of a member that was removed while down a new
   * home, round robin over the running nodes, so their subscriptions keep
   * collecting messages (what was queued on the dead node is lost).
   */
  private async rehome (dead: string): Promise<number> {
    const sessions = [...(this.peerSessions.get(dead)?.values() ?? [])]
    this.peerSessions.delete(dead)
    const homes: Array<PeerLink | undefined> = [undefined, ...this.runningPeers()]
    for (const [index, info] of sessions.entries()) {
      const home = homes[index % homes.length]
      const session = { found: true, subscriptions: (info.subscriptions ?? []).map(s => ({ topic: s.topic ?? '', qos: s.qos ?? 0, rh: 0, rap: false, nl: false })), messages: [] }
      if (home === undefined) await this.host.adopt(info.mountpoint ?? '', info.clientId ?? '', session)
      else await this.handTo(home, info.mountpoint ?? '', info.clientId ?? '', session)
    }
    if (sessions.length > 0) this.log.info({ member: dead, sessions: sessions.length }, 'persistent sessions of a removed member re-homed')
    return sessions.length
  }

  private linkUp (link: PeerLink): void {
    this.log.info({ member: link.name }, 'cluster member reachable')
    this.checkTables()
    // the Hello may have gone out before this node's listeners were started
    link.send({ members: { members: [this.self()] } })
    this.pullRetained(link).catch((err: Error) => { this.log.warn({ member: link.name, err: err.message }, 'cannot fetch retained messages') })
    this.host.memberReachable?.(link.name, link.address)
  }

  private broadcast (message: Parameters<PeerLink['send']>[0]): void {
    for (const link of this.links.values()) link.send(message)
  }

  // ---- subscriptions and routing ----

  /** The local interest of a mountpoint; its changes are announced to the peers. */
  interestFor (mountpoint: string): LocalInterest {
    let interest = this.local.get(mountpoint)
    if (interest === undefined) {
      interest = new LocalInterest((filter, present) => {
        this.broadcast({ filters: { mountpoint, added: present ? [filter] : [], removed: present ? [] : [filter] } })
      })
      this.local.set(mountpoint, interest)
    }
    return interest
  }

  /**
   * Tells every reachable peer about a filter before the SUBACK goes out, so a
   * publish anywhere after the SUBACK reaches the new subscriber.
   */
  async announce (mountpoint: string, filter: string): Promise<void> {
    const timeout = this.host.requestTimeout()
    await Promise.allSettled([...this.links.values()].filter(l => l.up).map(async link =>
      await link.request({ filters: { mountpoint, added: [filter], removed: [] } }, timeout)))
  }

  /** A peer's filters: a full set (hello) or a change. */
  peerFilters (peer: string, mountpoint: string, added: string[], removed: string[], replace = false): void {
    let byMountpoint = this.remote.get(peer)
    if (byMountpoint === undefined) this.remote.set(peer, byMountpoint = new Map())
    let interest = byMountpoint.get(mountpoint)
    if (interest === undefined || replace) byMountpoint.set(mountpoint, interest = new RemoteInterest())
    for (const f of added) interest.add(f)
    for (const f of removed) interest.remove(f)
  }

  resetPeerFilters (peer: string): void {
    this.remote.delete(peer)
  }

  /** A peer's Hello arrived on its inbound link `via`: we know its subscriptions. */
  peerTableReceived (peer: string, via: object): void {
    this.tables.set(peer, via)
    this.checkTables()
  }

  /** Members linked to this node's cluster listener now (the connections listener show gives it). */
  inboundLinks (): number { return this.tables.size }

  /** The inbound link `via` ended: until the peer's next Hello its table may be stale. */
  peerTableLost (peer: string, via: object): void {
    if (this.tables.get(peer) === via) this.tables.delete(peer)
  }

  /**
   * Whether a member may have subscribers this node does not know of yet: it is
   * not a netsplit (its link is up, or in its first connect grace after this
   * node started or it joined) but we have not both our link up and its Hello.
   * A QoS 1/2 publish accepted now could miss its subscribers.
   */
  tablesPending (): boolean {
    for (const [name, link] of this.links) {
      if (link.split) continue
      if (!link.up || !this.tables.has(name)) return true
    }
    return false
  }

  /** Resolves true once no table is pending, false after `timeoutMs`. */
  async awaitTables (timeoutMs: number): Promise<boolean> {
    if (!this.tablesPending()) return true
    return await new Promise<boolean>(resolve => {
      const waiter = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.tableWaiters = this.tableWaiters.filter(w => w !== waiter)
        resolve(false)
      }, timeoutMs)
      this.tableWaiters.push(waiter)
      this.tablePoll ??= setInterval(() => { this.checkTables() }, TABLE_POLL_MS)
    })
  }

  private checkTables (): void {
    if (this.tableWaiters.length > 0 && this.tablesPending()) return
    const waiters = this.tableWaiters
    this.tableWaiters = []
    clearInterval(this.tablePoll)
    this.tablePoll = undefined
    for (const waiter of waiters) waiter()
  }

  private routeDropped (peer: string, count: number): void {
    this.routedDropped += count
    this.routedDroppedBy.set(peer, (this.routedDroppedBy.get(peer) ?? 0) + count)
    let entry = this.dropLog.get(peer)
    if (entry === undefined) this.dropLog.set(peer, entry = { count: 0, at: 0 })
    entry.count += count
    const now = Date.now()
    if (now - entry.at < DROP_LOG_INTERVAL_MS) return
    this.log.warn({ member: peer, dropped: entry.count }, 'routed publishes dropped: the member was unreachable, too slow, or removed before confirming them')
    entry.count = 0
    entry.at = now
  }

  /** The members as the router sees them in one mountpoint. */
  private * peerViews (mountpoint: string): Iterable<PeerView> {
    for (const [name, link] of this.links) yield { name, up: link.up, interest: this.remote.get(name)?.get(mountpoint) }
  }

  /** Whether a member's subscriptions match a topic (its publishes are routed there). */
  routesTo (mountpoint: string, topic: string): boolean {
    for (const byMountpoint of this.remote.values()) {
      const interest = byMountpoint.get(mountpoint)
      if (interest === undefined) continue
      if (interest.matches(topic) || (interest.hasShares() && interest.sharedMatches(topic).length > 0)) return true
    }
    return false
  }

  /**
   * Sends a publish of this node once to every peer with a matching filter, and
   * picks the one node that delivers it to each matching shared group
   * (shared_subscription_policy). Returns the groups this node delivers; adds
   * to `confirmations` what the PUBACK of a QoS 1/2 message must wait for: each
   * peer it went to having it queued.
   */
  route (mountpoint: string, packet: RoutedPacket, localShares: readonly string[], confirmations: Array<Promise<void>>): ReadonlySet<string> {
    if (this.links.size === 0 && localShares.length === 0) return NONE
    const assigned = assignShares(packet.topic, localShares, this.host.name, this.peerViews(mountpoint), this.host.sharePolicy())
    const publishDuringNetsplit = this.host.publishDuringNetsplit()
    // converted once, for the first peer that gets the message (null: not yet)
    let properties: Properties | undefined | null = null
    for (const [name, link] of this.links) {
      const shares = assigned.get(name)
      const action = peerRoute({ name, up: link.up, interest: this.remote.get(name)?.get(mountpoint) }, packet.topic, packet.qos, shares, publishDuringNetsplit)
      if (action === 'skip') continue
      const hold = action === 'hold'
      if (properties === null) properties = propertiesToWire(packet, Date.now())
      this.matchesRemote++
      const confirmed = link.route({
        mountpoint,
        topic: packet.topic,
        payload: packet.payload,
        qos: packet.qos,
        // unset rather than false: nothing on the wire for the common message
        retain: packet.retain ? true : undefined,
        origin: packet.brokerId,
        counter: packet.brokerCounter,
        shares,
        properties
      }, hold)
      if (confirmed !== undefined) confirmations.push(confirmed)
    }
    const mine = assigned.get(this.host.name)
    return mine === undefined ? NONE : new Set(mine)
  }

  // ---- retained messages ----

  /** Stores a retained message on every reachable peer; resolves once all have answered. */
  async replicateRetain (mountpoint: string, topic: string, payload: Buffer, qos: number, properties?: PublishProperties): Promise<void> {
    const timestamp = this.clock.now()
    this.retainClock.set(retainKey(mountpoint, topic), timestamp)
    const message: Retain = { mountpoint, topic, payload, qos, timestamp, properties: propertiesToWire({ properties }, Date.now()) }
    const timeout = this.host.requestTimeout()
    const results = await Promise.allSettled([...this.links.values()].filter(l => l.up).map(async link => await link.request({ retain: message }, timeout)))
    for (const r of results) if (r.status === 'rejected') this.log.warn({ topic, err: (r.reason as Error).message }, 'retained message not stored on a member')
  }

  /** A retained message from a peer: stored unless a later write of the topic is known. */
  async acceptRetain (message: Retain): Promise<void> {
    const key = retainKey(message.mountpoint ?? '', message.topic ?? '')
    const timestamp = Number(message.timestamp ?? 0)
    this.clock.observe(timestamp)
    if ((this.retainClock.get(key) ?? 0) > timestamp) return
    this.retainClock.set(key, timestamp)
    await this.host.storeRetained(message)
  }

  async localRetained (): Promise<Retain[]> {
    const messages = await this.host.retainedMessages()
    return messages.map(m => ({ ...m, timestamp: this.retainClock.get(retainKey(m.mountpoint ?? '', m.topic ?? '')) ?? 0 }))
  }

  private async pullRetained (link: PeerLink): Promise<void> {
    const client = link.client_()
    if (client === undefined) return
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.host.cookie())
    const stream = client.RetainedSnapshot({}, metadata, { deadline: Date.now() + 30000 })
    for await (const message of stream) await this.acceptRetain(message as Retain)
  }

  // ---- sessions ----

  /** Asks every reachable peer to give up `clientId`; returns what they handed over. */
  async takeover (mountpoint: string, clientId: string, clean: boolean): Promise<SessionHandover__Output[]> {
    const timeout = this.host.requestTimeout()
    const replies = await Promise.allSettled([...this.links.values()].filter(l => l.up).map(async link =>
      await link.request({ takeover: { mountpoint, clientId, clean } }, timeout)))
    const handovers: SessionHandover__Output[] = []
    for (const r of replies) {
      if (r.status === 'fulfilled' && r.value.handover?.found === true) handovers.push(r.value.handover)
      if (r.status === 'rejected') this.log.warn({ clientId, err: (r.reason as Error).message }, 'session takeover: a member did not answer')
    }
    return handovers
  }

  // ---- leave ----

  async leave (target: string, opts: LeaveOptions): Promise<string> {
    if (target === '') throw new ClusterError('You have to provide a node')
    if (target === this.host.name) {
      if (this.onLeaveRequest === undefined) throw new ClusterError('leave is not available on this node')
      return await this.onLeaveRequest(opts)
    }
    const member = this.members.get(target)
    if (member === undefined) throw new ClusterError(`${target} is not a member of this cluster`)
    const link = this.links.get(target)
    if (link?.up !== true) {
      const sessions = this.peerSessions.get(target)
      this.removeMember(target)
      const timeout = this.host.requestTimeout()
      await Promise.allSettled(this.runningPeers().map(async l => await l.request({ leave: { node: target } }, timeout)))
      if (sessions !== undefined) this.peerSessions.set(target, sessions)
      await this.rehome(target)
      return 'Done'
    }
    return await this.leaveRemote(member, opts)
  }

  /** Relays `cluster leave` to the member that leaves, streaming its progress lines back. */
  private async leaveRemote (member: MemberRecord, opts: LeaveOptions): Promise<string> {
    const { credentials, options } = channel(member.address, this.host.tls())
    const client = new (vmqProto().Admin)(member.address, credentials, options)
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.host.cookie())
    const stream = client.ClusterLeave({ node: member.name, killSessions: opts.kill, timeoutSeconds: opts.timeoutSeconds }, metadata, { deadline: Date.now() + (opts.timeoutSeconds + 5) * 1000 })
    const lines: string[] = []
    try {
      for await (const reply of stream) lines.push((reply as { text: string }).text)
    } catch (err) {
      throw new ClusterError(`${member.name}: ${(err as grpc.ServiceError).details ?? (err as Error).message}`)
    } finally {
      client.close()
    }
    for (const line of lines.slice(0, -1)) opts.progress(line)
    return lines.at(-1) ?? 'Done'
  }

  /** Running peers, for spreading sessions over them. */
  runningPeers (): PeerLink[] {
    return [...this.links.values()].filter(l => l.up)
  }

  async handTo (link: PeerLink, mountpoint: string, clientId: string, session: SessionHandover): Promise<void> {
    await link.request({ adopt: { mountpoint, clientId, session } }, this.host.requestTimeout())
  }

  /** This node leaves: tell everyone, forget the cluster. */
  async announceLeave (): Promise<void> {
    const timeout = this.host.requestTimeout()
    await Promise.allSettled(this.runningPeers().map(async link => await link.request({ leave: { node: this.host.name } }, timeout)))
    for (const name of [...this.links.keys()]) this.removeMember(name)
  }

  close (): void {
    this.closed = true
    clearTimeout(this.joinRetry)
    clearInterval(this.tablePoll)
    for (const link of this.links.values()) link.close()
  }
}

function sessionKey (mountpoint: string, clientId: string): string {
  return mountpoint + '\u0000' + clientId
}

function retainKey (mountpoint: string, topic: string): string {
  return mountpoint + '\u0000' + topic
}

async function joinFailure (address: string, err: grpc.ServiceError, tls: ClientTls | undefined): Promise<string> {
  const tlsReason = err.code === grpc.status.UNAVAILABLE ? await explainTlsFailure(address, tls) : undefined
  if (tlsReason !== undefined) return `tls_failed: ${address}: ${tlsReason}`
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) return `not_reachable: no node answers at ${address}`
  if (err.code === grpc.status.UNAUTHENTICATED) return `${address} refused the join: wrong distributed_cookie`
  return `${address} refused the join: ${err.details}`
}
