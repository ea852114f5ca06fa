// Sends each publish of this node to the members that need it, over their
// peer links; routing.ts makes the choices.
import type { Properties } from '../rpc/generated/vmq/Properties.js'
import type { ClusterHost } from './host.js'
import type { Membership } from './membership.js'
import type { PeerLink } from './peer-link.js'
import { propertiesToWire } from './properties.js'
import type { RoutedPacket } from './router.js'
import { assignShares, peerRoute, type PeerView } from './routing.js'
import type { SubscriptionTables } from './subscription-tables.js'

const NONE: ReadonlySet<string> = new Set()

interface LinkView extends PeerView { link: PeerLink }

export class Forwarder {
  /** publishes of this node sent to a member (once per member with matching subscriptions) */
  matchesRemote = 0
  /** the members as one publish sees them, refilled in place for each (no allocation per publish) */
  private readonly views: LinkView[] = []

  constructor (private readonly host: ClusterHost, private readonly membership: Membership, private readonly tables: SubscriptionTables) {}

  /**
   * Sends a publish of this node once to every peer with a matching filter, and
   * picks the one node that delivers it to each matching shared group
   * (shared_subscription_policy). Returns the groups this node delivers; adds
   * to `confirmations` what the PUBACK of a QoS 1/2 message must wait for: each
   * peer it went to having it queued.
   */
  route (mountpoint: string, packet: RoutedPacket, localShares: readonly string[], confirmations: Array<Promise<void>>): ReadonlySet<string> {
    const links = this.membership.links
    if (links.size === 0 && localShares.length === 0) return NONE
    const views = this.viewsOf(links, mountpoint)
    const assigned = assignShares(packet.topic, localShares, this.host.name, views, this.host.sharePolicy())
    const publishDuringNetsplit = this.host.publishDuringNetsplit()
    // converted once, for the first peer that gets the message (null: not yet)
    let properties: Properties | undefined | null = null
    for (const view of views) {
      const shares = assigned.get(view.name)
      const action = peerRoute(view, packet.topic, packet.qos, shares, publishDuringNetsplit)
      if (action === 'skip') continue
      const hold = action === 'hold'
      if (properties === null) properties = propertiesToWire(packet, Date.now())
      this.matchesRemote++
      const confirmed = view.link.route({
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

  /** The members as the router sees them in one mountpoint, in the reused array. */
  private viewsOf (links: ReadonlyMap<string, PeerLink>, mountpoint: string): readonly LinkView[] {
    const views = this.views
    let i = 0
    for (const [name, link] of links) {
      const interest = this.tables.interestOf(name, mountpoint)
      const view = views[i]
      if (view === undefined) {
        views.push({ name, up: link.up, interest, link })
      } else {
        view.name = name
        view.up = link.up
        view.interest = interest
        view.link = link
      }
      i++
    }
    views.length = i
    return views
  }
}
