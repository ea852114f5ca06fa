// Who the members are (kept in the data dir), a link to each of them, and
// whether they are reachable: joining, members learned from peers, leaving,
// and netsplits (a link that was up going down).
import * as grpc from '@grpc/grpc-js'
import { COOKIE_METADATA } from '../rpc/server.js'
import { explainTlsFailure, type ClientTls } from '../rpc/tls.js'
import type { Hello } from '../rpc/generated/vmq/Hello.js'
import type { Member, Member__Output } from '../rpc/generated/vmq/Member.js'
import type { MqttEndpoint__Output } from '../rpc/generated/vmq/MqttEndpoint.js'
import type { JoinReply__Output } from '../rpc/generated/vmq/JoinReply.js'
import type { PeerMessage } from '../rpc/generated/vmq/PeerMessage.js'
import { InvalidRequest } from '../errors.js'
import { parseNodeRef } from './address.js'
import { ClusterError, type ClusterHost, type LeaveOptions, type MemberStatus } from './host.js'
import { MemberStore, type MemberRecord } from './members.js'
import type { PeerChannels } from './peer-channels.js'
import { PeerLink } from './peer-link.js'

/** What the other parts of the cluster learn from the membership. */
export interface MembershipEvents {
  /** what this node tells a member when its link (re)connects */
  hello: () => Hello
  /** a member's link came up (again) */
  up: (link: PeerLink) => void
  /** routed publishes a link dropped, and the bytes they take on the link */
  dropped: (link: PeerLink, count: number, bytes: number) => void
  /** a member was removed: forget what it told us */
  removed: (name: string) => void
}

export class Membership {
  private readonly members = new Map<string, MemberRecord>()
  private readonly linkMap = new Map<string, PeerLink>()
  /** each peer's MQTT listeners, as it last told us */
  private readonly endpoints = new Map<string, MqttEndpoint__Output[]>()
  private readonly store: MemberStore
  private joinRetry: NodeJS.Timeout | undefined
  private closed = false
  /** links to members that went down (netsplit_detected) and came up again (netsplit_resolved) */
  netsplitsDetected = 0
  netsplitsResolved = 0

  constructor (private readonly host: ClusterHost, dataDir: string, private readonly channels: PeerChannels, private readonly events: MembershipEvents) {
    this.store = new MemberStore(dataDir)
  }

  /** The link to each member, by name (routing walks it for every publish). */
  get links (): ReadonlyMap<string, PeerLink> { return this.linkMap }

  /** Reconnects to the members known from a previous run, or joins `discovery`. */
  start (discovery: string): void {
    this.members.set(this.host.name, { name: this.host.name, address: this.host.address() })
    for (const m of this.store.load()) if (m.name !== this.host.name) this.addMember(m)
    this.saveMembers()
    if (discovery !== '' && this.linkMap.size === 0) this.joinInBackground(discovery, 1)
  }

  private joinInBackground (discovery: string, attempt: number): void {
    this.join(discovery).then(
      () => { this.host.log.info({ discovery }, 'joined the cluster') },
      (err: Error) => {
        if (this.closed || err.message.startsWith('non_empty_node')) return
        const delay = Math.min(1000 * attempt, 10000)
        this.host.log.warn({ discovery, attempt }, `cannot join the cluster yet: ${err.message}; retrying in ${delay} ms`)
        this.joinRetry = setTimeout(() => { this.joinInBackground(discovery, attempt + 1) }, delay)
      })
  }

  show (): MemberStatus[] {
    return [...this.members.values()].map(m => {
      if (m.name === this.host.name) return { name: m.name, running: true, reason: '' }
      const link = this.linkMap.get(m.name)
      return { name: m.name, running: link?.up === true, reason: link?.lastError ?? 'no link' }
    })
  }

  /** The other members: where their clustering listener is and whether their link is up. */
  peers (): Array<MemberRecord & { running: boolean, reason: string }> {
    return [...this.members.values()].filter(m => m.name !== this.host.name).map(m => {
      const link = this.linkMap.get(m.name)
      return { ...m, running: link?.up === true, reason: link?.lastError || 'no link' }
    })
  }

  /** All members reachable: VerneMQ's "cluster ready"; otherwise a netsplit. */
  ready (): boolean {
    for (const link of this.linkMap.values()) if (link.split) return false
    return true
  }

  hasPeers (): boolean { return this.linkMap.size > 0 }

  member (name: string): MemberRecord | undefined { return this.members.get(name) }

  /** host:port of a member's clustering listener, when it is running. */
  runningAddress (name: string): string | undefined {
    return this.linkMap.get(name)?.up === true ? this.members.get(name)?.address : undefined
  }

  /** Running peers, for spreading sessions over them. */
  runningPeers (): PeerLink[] {
    return [...this.linkMap.values()].filter(l => l.up)
  }

  async join (spec: string): Promise<void> {
    const ref = parseNodeRef(spec)
    if (ref.name === this.host.name || ref.address === this.host.address()) throw new InvalidRequest('self_join: a node cannot join itself')
    if (this.linkMap.size > 0) {
      throw new InvalidRequest(`non_empty_node: this node is already a member of a cluster with ${[...this.linkMap.keys()].join(', ')}; run cluster leave first`)
    }
    try {
      const reply = await this.callJoin(ref.address)
      for (const m of reply.members) if (m.name !== this.host.name) this.addMember({ name: m.name, address: m.address })
      this.saveMembers()
    } finally {
      // the discovery node may be a member under another address (a name instead of an IP)
      this.releaseUnused(ref.address)
    }
  }

  private async callJoin (address: string): Promise<JoinReply__Output> {
    const client = this.channels.cluster(address)
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.host.cookie())
    return await new Promise<JoinReply__Output>((resolve, reject) => {
      client.Join({ node: { name: this.host.name, address: this.host.address() } }, metadata, { deadline: Date.now() + 5000 }, (err, reply) => {
        // the discovery node refusing the request itself (a node of our name): the operator's to fix, as our own refusals
        if (err !== null) joinFailure(address, err, this.host.tls()).then(reason => { reject(err.code === grpc.status.INVALID_ARGUMENT ? new InvalidRequest(reason) : new ClusterError(reason)) }, reject)
        else resolve(reply as JoinReply__Output)
      })
    })
  }

  /** A node asks to join through us. */
  acceptJoin (node: Member): Member[] {
    if (node.name === undefined || node.address === undefined || node.name === '') throw new ClusterError('join request without a node name')
    if (node.name === this.host.name) throw new InvalidRequest(`self_join: ${node.name} is this node`)
    this.addMember({ name: node.name, address: node.address })
    this.saveMembers()
    this.broadcast({ members: { members: this.memberList() } })
    this.host.log.info({ member: node.name, address: node.address }, 'a node joined the cluster')
    return this.memberList()
  }

  /** A Link stream is accepted only from a node in the member list (one that joined, or was told of by a member). */
  isMember (name: string): boolean {
    return name !== '' && name !== this.host.name && this.members.has(name)
  }

  memberList (): Member[] {
    return [...this.members.values()].map(m => m.name === this.host.name ? this.self() : m)
  }

  /** This node as it tells peers about itself: with its MQTT listeners. */
  self (): Member {
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
    this.host.log.info({ member: peer, was: known.address, address: own.address }, 'cluster member is at a new address')
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
    if (known !== undefined && known.address === m.address && this.linkMap.has(m.name)) return
    this.linkMap.get(m.name)?.close()
    this.members.set(m.name, m)
    if (known !== undefined) this.releaseUnused(known.address)
    const link = new PeerLink(m.name, m.address, this.host.cookie, {
      hello: () => this.events.hello(),
      up: (l, again) => {
        if (again) this.netsplitsResolved++
        this.linkUp(l)
      },
      down: (l, reason, wasUp) => {
        if (wasUp) this.netsplitsDetected++
        this.host.log.warn({ member: l.name, reason }, 'cluster member unreachable')
      },
      dropped: (l, count, bytes) => { this.events.dropped(l, count, bytes) }
    }, this.channels.cluster(m.address))
    this.linkMap.set(m.name, link)
    link.start()
  }

  private linkUp (link: PeerLink): void {
    this.host.log.info({ member: link.name }, 'cluster member reachable')
    // the Hello may have gone out before this node's listeners were started
    link.send({ members: { members: [this.self()] } })
    this.events.up(link)
  }

  removeMember (name: string): void {
    this.linkMap.get(name)?.close(true)
    this.linkMap.delete(name)
    this.events.removed(name)
    this.endpoints.delete(name)
    const member = this.members.get(name)
    if (member === undefined) return
    this.members.delete(name)
    this.releaseUnused(member.address)
    this.saveMembers()
    this.host.log.info({ member: name }, 'member removed from the cluster')
  }

  /** Closes the connection to `address` unless a member is still there. */
  private releaseUnused (address: string): void {
    for (const m of this.members.values()) if (m.name !== this.host.name && m.address === address) return
    this.channels.release(address)
  }

  /** Removes a member that is down and tells the running ones. */
  async removeDown (name: string): Promise<void> {
    this.removeMember(name)
    await this.tellPeers({ leave: { node: name } })
  }

  /** Relays `cluster leave` to the member that leaves, streaming its progress lines back. */
  async leaveRemote (member: MemberRecord, opts: LeaveOptions): Promise<string> {
    const client = this.channels.adminService(member.address)
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.host.cookie())
    const stream = client.ClusterLeave({ node: member.name, killSessions: opts.kill, timeoutSeconds: opts.timeoutSeconds }, metadata, { deadline: Date.now() + (opts.timeoutSeconds + 5) * 1000 })
    const lines: string[] = []
    try {
      for await (const reply of stream) lines.push((reply as { text: string }).text)
    } catch (err) {
      throw new ClusterError(`${member.name}: ${(err as grpc.ServiceError).details ?? (err as Error).message}`)
    }
    for (const line of lines.slice(0, -1)) opts.progress(line)
    return lines.at(-1) ?? 'Done'
  }

  /** This node leaves: tell everyone, forget the cluster. */
  async announceLeave (): Promise<void> {
    await this.tellPeers({ leave: { node: this.host.name } })
    for (const name of [...this.linkMap.keys()]) this.removeMember(name)
  }

  /** Sends to every running peer and waits for their answers (or the request timeout). */
  private async tellPeers (message: PeerMessage): Promise<void> {
    const timeout = this.host.requestTimeout()
    await Promise.allSettled(this.runningPeers().map(async link => await link.request(message, timeout)))
  }

  broadcast (message: PeerMessage): void {
    for (const link of this.linkMap.values()) link.send(message)
  }

  private saveMembers (): void {
    this.store.save(this.members.values())
  }

  close (): void {
    this.closed = true
    clearTimeout(this.joinRetry)
    for (const link of this.linkMap.values()) link.close()
  }
}

async function joinFailure (address: string, err: grpc.ServiceError, tls: ClientTls | undefined): Promise<string> {
  const tlsReason = err.code === grpc.status.UNAVAILABLE ? await explainTlsFailure(address, tls) : undefined
  if (tlsReason !== undefined) return `tls_failed: ${address}: ${tlsReason}`
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) return `not_reachable: no node answers at ${address}`
  if (err.code === grpc.status.UNAUTHENTICATED) return `${address} refused the join: wrong distributed_cookie`
  return `${address} refused the join: ${err.details}`
}
