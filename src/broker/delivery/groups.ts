// allow_multiple_sessions: several connections with one client id share the
// client's messages on this node instead of taking each other over.
//
// aedes keeps one connection per client id (a second one closes the first), so
// every connection after the first gets an internal id: `<client id>\0<n>`
// (MQTT forbids U+0000 in strings, and CONNECTs carrying it are refused). Such
// connections are clean sessions; only the first one may be persistent. Each
// connection subscribes on its own; a message reaching any of them is claimed
// once per group and then given to every member (fanout) or to one of them in
// turn, preferring members with room in their window (balance). When a member
// leaves, balance hands its unacknowledged and waiting messages to the others.
import type { OutPacket } from './adapter.js'
import type { Entry } from './inflight.js'

/** What the group needs of each member's outbox (SessionQueue). */
export interface GroupMember {
  group: SessionGroup | undefined
  readonly ready: boolean
  readonly closed: boolean
  /** nothing waits and the window has room */
  readonly idle: boolean
  forward: (packet: OutPacket) => OutPacket | null
  offer: (packet: OutPacket, qos: number) => void
  qosFor: (packet: OutPacket) => number
  handedOff: (packet: OutPacket) => void
}

export const SESSION_SEPARATOR = '\u0000'

/** The client id a connection was opened with (internal ids of extra sessions stripped). */
export function publicClientId (id: string): string {
  const cut = id.indexOf(SESSION_SEPARATOR)
  return cut < 0 ? id : id.slice(0, cut)
}

export function isExtraSession (id: string): boolean {
  return id.includes(SESSION_SEPARATOR)
}

export class SessionGroup {
  readonly members: GroupMember[] = []
  private next = 0
  private sessions = 0
  /** per origin broker: the last brokerCounter claimed by the group */
  private readonly claimed = new Map<string, number>()

  constructor (readonly clientId: string, private readonly balance: () => boolean) {}

  /** The id for a new connection: the client id for the first, an internal one after. */
  join (session: GroupMember): string {
    this.members.push(session)
    session.group = this
    return this.members.length === 1 ? this.clientId : `${this.clientId}${SESSION_SEPARATOR}${++this.sessions}`
  }

  /** authorizeForward for a member: claims the message for the group, then delivers it. */
  route (from: GroupMember, packet: OutPacket): OutPacket | null {
    if (packet.brokerId == null || this.members.length < 2) return from.forward(packet) // retained: for the subscriber only
    const counter = packet.brokerCounter ?? 0
    const last = this.claimed.get(packet.brokerId)
    if (last !== undefined && counter <= last) return null // another member's subscription matched it first
    this.claimed.set(packet.brokerId, counter)
    const qos = from.qosFor(packet)
    if (!this.balance()) {
      for (const member of this.members) {
        if (member !== from && member.ready) member.offer({ ...packet, messageId: undefined, dup: false }, qos)
      }
      return from.forward(packet)
    }
    const target = this.pick() ?? from
    if (target === from) return from.forward(packet)
    target.offer(packet, qos)
    from.handedOff(packet)
    return null
  }

  /** A member left: with balance its messages go to the others. Returns true when the group is empty. */
  leave (session: GroupMember, entries: Entry[]): boolean {
    const index = this.members.indexOf(session)
    if (index >= 0) this.members.splice(index, 1)
    if (this.members.length === 0) return true
    if (!this.balance()) return false
    for (const entry of entries) {
      if (entry.released) continue // QoS 2 past PUBREC: the member had the message
      const target = this.pick()
      if (target === undefined) break
      target.offer({ ...entry.packet, messageId: undefined, dup: false }, entry.qos)
      if (entry.stored) session.handedOff(entry.packet)
    }
    return false
  }

  /** Next member in turn, preferring one that can send at once; undefined when none is ready. */
  private pick (): GroupMember | undefined {
    const n = this.members.length
    let fallback: number | undefined
    for (let i = 0; i < n; i++) {
      const index = (this.next + i) % n
      const member = this.members[index]
      if (!member.ready || member.closed) continue
      if (member.idle) {
        this.next = (index + 1) % n
        return member
      }
      fallback ??= index
    }
    if (fallback === undefined) return undefined
    this.next = (fallback + 1) % n
    return this.members[fallback]
  }
}
