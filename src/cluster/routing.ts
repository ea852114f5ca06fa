// Which members a publish goes to, and which one node delivers it to each
// matching shared group (shared_subscription_policy). Pure decisions over the
// members' advertised subscriptions; Forwarder.route (forwarder.ts) does the sending.
import { subscriptionMatches } from '../mqtt/topic.js'
import type { RemoteInterest } from './interest.js'

/** A member as the router sees it: its link state and its filters in the publish's mountpoint. */
export interface PeerView {
  name: string
  up: boolean
  interest: RemoteInterest | undefined
}

export type SharePolicy = 'prefer_local' | 'local_only' | 'random' | 'prefer_online_before_local' | string

/** What to do with a publish for one member: send it now, hold it until the link is back, or nothing. */
export function peerRoute (peer: PeerView, topic: string, qos: number, shares: readonly string[] | undefined, publishDuringNetsplit: boolean): 'send' | 'hold' | 'skip' {
  // a link that went down since the publish passed the netsplit check waits
  // for the link unless publishes during a netsplit are allowed (VerneMQ:
  // they do not reach the other side)
  const hold = !peer.up && qos > 0 && !publishDuringNetsplit
  if (!peer.up && !hold) return 'skip'
  if (shares === undefined && peer.interest?.matches(topic) !== true) return 'skip'
  return hold ? 'hold' : 'send'
}

/** node name -> the share filters it delivers this message to */
export function assignShares (topic: string, localShares: readonly string[], self: string, peers: Iterable<PeerView>, policy: SharePolicy, random: () => number = Math.random): Map<string, string[]> {
  const candidates = new Map<string, string[]>()
  for (const share of localShares) if (subscriptionMatches(share, topic)) candidates.set(share, [self])
  for (const { name, up, interest } of peers) {
    if (!up || interest?.hasShares() !== true) continue
    for (const share of interest.sharedMatches(topic)) {
      const nodes = candidates.get(share)
      if (nodes === undefined) candidates.set(share, [name])
      else nodes.push(name)
    }
  }
  const assigned = new Map<string, string[]>()
  for (const [share, nodes] of candidates) {
    const target = pickNode(nodes, self, policy, random)
    if (target === undefined) continue
    const list = assigned.get(target)
    if (list === undefined) assigned.set(target, [share])
    else list.push(share)
  }
  return assigned
}

/** The node that delivers to a group, among those with members (this node first in the list when it has some). */
export function pickNode (nodes: readonly string[], self: string, policy: SharePolicy, random: () => number = Math.random): string | undefined {
  const hasLocal = nodes[0] === self
  switch (policy) {
    case 'local_only': return hasLocal ? self : undefined
    case 'random': return nodes[Math.floor(random() * nodes.length)]
    default: // prefer_local, prefer_online_before_local (every member we see is online)
      return hasLocal ? self : nodes[Math.floor(random() * nodes.length)]
  }
}
