// One node's cluster: the parts, each in its own file, put together, and the
// operations that span them (leave). Callers outside src/cluster see only this.
import type { Hello } from '../rpc/generated/vmq/Hello.js'
import type { Member, Member__Output } from '../rpc/generated/vmq/Member.js'
import type { MqttEndpoint__Output } from '../rpc/generated/vmq/MqttEndpoint.js'
import type { Retain } from '../rpc/generated/vmq/Retain.js'
import type { SessionInfo } from '../rpc/generated/vmq/SessionInfo.js'
import type { SessionHandover, SessionHandover__Output } from '../rpc/generated/vmq/SessionHandover.js'
import type { AdminClient } from '../rpc/client.js'
import { Forwarder } from './forwarder.js'
import { ClusterError, type ClusterHost, type LeaveOptions, type MemberStatus } from './host.js'
import type { LocalInterest } from './interest.js'
import type { MemberRecord } from './members.js'
import { Membership } from './membership.js'
import { PeerChannels } from './peer-channels.js'
import type { PeerLink } from './peer-link.js'
import type { PublishProperties } from './properties.js'
import { RetainedReplication } from './retained-replication.js'
import { RouteDrops } from './route-drops.js'
import type { RoutedPacket } from './router.js'
import { SessionDirectory } from './session-directory.js'
import { SubscriptionTables } from './subscription-tables.js'

export class Cluster {
  private readonly channels: PeerChannels
  private readonly membership: Membership
  private readonly tables: SubscriptionTables
  private readonly sessions: SessionDirectory
  private readonly retained: RetainedReplication
  private readonly forwarder: Forwarder
  private readonly drops: RouteDrops
  /** leave -k handler, set by the node */
  onLeaveRequest: ((opts: LeaveOptions) => Promise<string>) | undefined

  constructor (private readonly host: ClusterHost, dataDir: string) {
    this.drops = new RouteDrops(host.log)
    this.channels = new PeerChannels(host.tls, host.cookie)
    this.membership = new Membership(host, dataDir, this.channels, {
      hello: () => this.hello(),
      up: link => { this.linkUp(link) },
      dropped: (link, count, bytes) => { this.drops.add(link.name, count, bytes) },
      removed: name => {
        this.tables.forget(name)
        this.sessions.forget(name)
      }
    })
    this.tables = new SubscriptionTables(host, this.membership)
    this.sessions = new SessionDirectory(host, this.membership)
    this.retained = new RetainedReplication(host, this.membership)
    this.forwarder = new Forwarder(host, this.membership, this.tables)
  }

  private hello (): Hello {
    return { from: this.membership.self(), members: this.membership.memberList(), filters: this.tables.localFilters(), sessions: this.sessions.local() }
  }

  private linkUp (link: PeerLink): void {
    this.tables.check()
    this.retained.pull(link).catch((err: Error) => { this.host.log.warn({ member: link.name, err: err.message }, 'cannot fetch retained messages') })
    this.host.memberReachable?.(link.name, link.address)
  }

  // ---- metrics ----
  get routedDropped (): number { return this.drops.count }
  get routedDroppedBy (): ReadonlyMap<string, number> { return this.drops.byPeer }
  get bytesDropped (): number { return this.drops.bytes }
  get netsplitsDetected (): number { return this.membership.netsplitsDetected }
  get netsplitsResolved (): number { return this.membership.netsplitsResolved }
  get matchesRemote (): number { return this.forwarder.matchesRemote }

  // ---- membership ----
  start (discovery: string): void { this.membership.start(discovery) }
  show (): MemberStatus[] { return this.membership.show() }
  peers (): Array<MemberRecord & { running: boolean, reason: string }> { return this.membership.peers() }
  ready (): boolean { return this.membership.ready() }
  hasPeers (): boolean { return this.membership.hasPeers() }
  /** Admin calls to the node at `address` (a member), over this node's one connection to it. */
  adminClient (address: string, deadlineMs?: number): AdminClient { return this.channels.admin(address, deadlineMs) }
  runningAddress (name: string): string | undefined { return this.membership.runningAddress(name) }
  runningPeers (): PeerLink[] { return this.membership.runningPeers() }
  async join (spec: string): Promise<void> { await this.membership.join(spec) }
  acceptJoin (node: Member): Member[] { return this.membership.acceptJoin(node) }
  isMember (name: string): boolean { return this.membership.isMember(name) }
  learnFromPeer (peer: string, entries: Member__Output[]): void { this.membership.learnFromPeer(peer, entries) }
  endpointsOf (name: string): readonly MqttEndpoint__Output[] { return this.membership.endpointsOf(name) }
  listenersChanged (): void { this.membership.listenersChanged() }
  mergeMembers (members: Member[]): void { this.membership.mergeMembers(members) }
  removeMember (name: string): void { this.membership.removeMember(name) }
  async announceLeave (): Promise<void> { await this.membership.announceLeave() }

  /** `cluster leave node=<target>`: this node, a running member (it leaves by itself), or a dead one (removed here, its sessions re-homed). */
  async leave (target: string, opts: LeaveOptions): Promise<string> {
    if (target === '') throw new ClusterError('You have to provide a node')
    if (target === this.host.name) {
      if (this.onLeaveRequest === undefined) throw new ClusterError('leave is not available on this node')
      return await this.onLeaveRequest(opts)
    }
    const member = this.membership.member(target)
    if (member === undefined) throw new ClusterError(`${target} is not a member of this cluster`)
    if (this.membership.links.get(target)?.up === true) return await this.membership.leaveRemote(member, opts)
    const sessions = this.sessions.ofPeer(target)
    await this.membership.removeDown(target)
    await this.sessions.rehome(target, sessions)
    return 'Done'
  }

  // ---- subscriptions and routing ----
  interestFor (mountpoint: string): LocalInterest { return this.tables.interestFor(mountpoint) }
  async announce (mountpoint: string, filter: string): Promise<void> { await this.tables.announce(mountpoint, filter) }
  peerFilters (peer: string, mountpoint: string, added: string[], removed: string[], replace = false): void { this.tables.peerFilters(peer, mountpoint, added, removed, replace) }
  resetPeerFilters (peer: string): void { this.tables.resetPeerFilters(peer) }
  peerTableReceived (peer: string, via: object): void { this.tables.tableReceived(peer, via) }
  inboundLinks (): number { return this.tables.inboundLinks() }
  peerTableLost (peer: string, via: object): void { this.tables.tableLost(peer, via) }
  tablesPending (): boolean { return this.tables.pending() }
  async awaitTables (timeoutMs: number): Promise<boolean> { return await this.tables.await(timeoutMs) }
  routesTo (mountpoint: string, topic: string): boolean { return this.tables.routesTo(mountpoint, topic) }
  route (mountpoint: string, packet: RoutedPacket, localShares: readonly string[], confirmations: Array<Promise<void>>): ReadonlySet<string> {
    return this.forwarder.route(mountpoint, packet, localShares, confirmations)
  }

  // ---- retained messages ----
  async replicateRetain (mountpoint: string, topic: string, payload: Buffer, qos: number, properties?: PublishProperties): Promise<void> {
    await this.retained.replicate(mountpoint, topic, payload, qos, properties)
  }

  async acceptRetain (message: Retain): Promise<void> { await this.retained.accept(message) }
  async localRetained (): Promise<Retain[]> { return await this.retained.local() }

  // ---- persistent sessions ----
  async sessionChanged (mountpoint: string, clientId: string, subscriptions: Array<{ topic: string, qos: number }>): Promise<void> {
    await this.sessions.sessionChanged(mountpoint, clientId, subscriptions)
  }

  peerSession (peer: string, info: SessionInfo, replace = false): void { this.sessions.peerSession(peer, info, replace) }
  resetPeerSessions (peer: string): void { this.sessions.resetPeerSessions(peer) }
  async takeover (mountpoint: string, clientId: string, clean: boolean): Promise<SessionHandover__Output[]> { return await this.sessions.takeover(mountpoint, clientId, clean) }
  async handTo (link: PeerLink, mountpoint: string, clientId: string, session: SessionHandover): Promise<void> { await this.sessions.handTo(link, mountpoint, clientId, session) }

  close (): void {
    this.tables.close()
    this.membership.close()
    this.channels.close()
    this.drops.close()
  }
}
