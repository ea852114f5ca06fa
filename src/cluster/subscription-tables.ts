// The subscription filters of every node: this node's own, per mountpoint,
// announced to the members as they change; each member's as it told us; and
// whether we have heard every reachable member's table yet (a publish must not
// be accepted before: it could miss their subscribers).
import { LocalInterest, RemoteInterest } from './interest.js'
import type { ClusterHost } from './host.js'
import type { Membership } from './membership.js'
import type { FilterSet } from '../rpc/generated/vmq/FilterSet.js'

/** How often waiting publishes look again at links whose first connect grace may have run out. */
const TABLE_POLL_MS = 50

export class SubscriptionTables {
  private readonly local = new Map<string, LocalInterest>()
  private readonly remote = new Map<string, Map<string, RemoteInterest>>()
  /** peer -> the inbound link whose Hello gave us its subscription table */
  private readonly tables = new Map<string, object>()
  private waiters: Array<() => void> = []
  private poll: NodeJS.Timeout | undefined

  constructor (private readonly host: ClusterHost, private readonly membership: Membership) {}

  /** The local interest of a mountpoint; its changes are announced to the peers. */
  interestFor (mountpoint: string): LocalInterest {
    let interest = this.local.get(mountpoint)
    if (interest === undefined) {
      interest = new LocalInterest((filter, present) => {
        this.membership.broadcast({ filters: { mountpoint, added: present ? [filter] : [], removed: present ? [] : [filter] } })
      })
      this.local.set(mountpoint, interest)
    }
    return interest
  }

  /** This node's filters, as its Hello tells them. */
  localFilters (): FilterSet[] {
    return [...this.local.entries()].map(([mountpoint, interest]) => ({ mountpoint, filters: interest.filters() }))
  }

  /**
   * Tells every reachable peer about a filter before the SUBACK goes out, so a
   * publish anywhere after the SUBACK reaches the new subscriber.
   */
  async announce (mountpoint: string, filter: string): Promise<void> {
    const timeout = this.host.requestTimeout()
    await Promise.allSettled(this.membership.runningPeers().map(async link =>
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

  /** A peer's filters in one mountpoint, as the router looks them up. */
  interestOf (peer: string, mountpoint: string): RemoteInterest | undefined {
    return this.remote.get(peer)?.get(mountpoint)
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

  /** A removed member: its filters and table are gone. */
  forget (peer: string): void {
    this.remote.delete(peer)
    this.tables.delete(peer)
  }

  /** A peer's Hello arrived on its inbound link `via`: we know its subscriptions. */
  tableReceived (peer: string, via: object): void {
    this.tables.set(peer, via)
    this.check()
  }

  /** Members linked to this node's cluster listener now (the connections listener show gives it). */
  inboundLinks (): number { return this.tables.size }

  /** The inbound link `via` ended: until the peer's next Hello its table may be stale. */
  tableLost (peer: string, via: object): void {
    if (this.tables.get(peer) === via) this.tables.delete(peer)
  }

  /**
   * Whether a member may have subscribers this node does not know of yet: it is
   * not a netsplit (its link is up, or in its first connect grace after this
   * node started or it joined) but we have not both our link up and its Hello.
   * A QoS 1/2 publish accepted now could miss its subscribers.
   */
  pending (): boolean {
    for (const [name, link] of this.membership.links) {
      if (link.split) continue
      if (!link.up || !this.tables.has(name)) return true
    }
    return false
  }

  /** Resolves true once no table is pending, false after `timeoutMs`. */
  async await (timeoutMs: number): Promise<boolean> {
    if (!this.pending()) return true
    return await new Promise<boolean>(resolve => {
      const waiter = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter(w => w !== waiter)
        resolve(false)
      }, timeoutMs)
      this.waiters.push(waiter)
      this.poll ??= setInterval(() => { this.check() }, TABLE_POLL_MS)
    })
  }

  /** Lets the waiting publishes go once no table is pending. */
  check (): void {
    if (this.waiters.length > 0 && this.pending()) return
    const waiters = this.waiters
    this.waiters = []
    clearInterval(this.poll)
    this.poll = undefined
    for (const waiter of waiters) waiter()
  }

  close (): void {
    clearInterval(this.poll)
  }
}
