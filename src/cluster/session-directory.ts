// Which node holds which persistent session: this node tells the members about
// its own, keeps what each member told it about theirs, asks the members to
// hand a session over when its client connects here (takeover), and gives the
// sessions of a member removed while down a new home.
import type { SessionInfo } from '../rpc/generated/vmq/SessionInfo.js'
import type { SessionHandover, SessionHandover__Output } from '../rpc/generated/vmq/SessionHandover.js'
import type { ClusterHost } from './host.js'
import type { Membership } from './membership.js'
import type { PeerLink } from './peer-link.js'

export class SessionDirectory {
  /** persistent sessions: this node's, and each peer's as it reported them (mountpoint + NUL + client id -> subscriptions) */
  private readonly localSessions = new Map<string, SessionInfo>()
  private readonly peerSessions = new Map<string, Map<string, SessionInfo>>()

  constructor (private readonly host: ClusterHost, private readonly membership: Membership) {}

  /** This node's persistent sessions, as its Hello tells them. */
  local (): SessionInfo[] { return [...this.localSessions.values()] }

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
    await Promise.allSettled(this.membership.runningPeers().map(async link => await link.request({ session: info }, timeout)))
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

  /** What a peer reported, as it is now. */
  ofPeer (peer: string): SessionInfo[] {
    return [...(this.peerSessions.get(peer)?.values() ?? [])]
  }

  forget (peer: string): void {
    this.peerSessions.delete(peer)
  }

  /**
   * Gives the persistent sessions of a member that was removed while down a new
   * home, round robin over the running nodes, so their subscriptions keep
   * collecting messages (what was queued on the dead node is lost).
   */
  async rehome (dead: string, sessions: SessionInfo[]): Promise<number> {
    const homes: Array<PeerLink | undefined> = [undefined, ...this.membership.runningPeers()]
    for (const [index, info] of sessions.entries()) {
      const home = homes[index % homes.length]
      const session = { found: true, subscriptions: (info.subscriptions ?? []).map(s => ({ topic: s.topic ?? '', qos: s.qos ?? 0, rh: 0, rap: false, nl: false })), messages: [] }
      if (home === undefined) await this.host.adopt(info.mountpoint ?? '', info.clientId ?? '', session)
      else await this.handTo(home, info.mountpoint ?? '', info.clientId ?? '', session)
    }
    if (sessions.length > 0) this.host.log.info({ member: dead, sessions: sessions.length }, 'persistent sessions of a removed member re-homed')
    return sessions.length
  }

  /** Asks every reachable peer to give up `clientId`; returns what they handed over. */
  async takeover (mountpoint: string, clientId: string, clean: boolean): Promise<SessionHandover__Output[]> {
    const timeout = this.host.requestTimeout()
    const replies = await Promise.allSettled(this.membership.runningPeers().map(async link =>
      await link.request({ takeover: { mountpoint, clientId, clean } }, timeout)))
    const handovers: SessionHandover__Output[] = []
    for (const r of replies) {
      if (r.status === 'fulfilled' && r.value.handover?.found === true) handovers.push(r.value.handover)
      if (r.status === 'rejected') this.host.log.warn({ clientId, err: (r.reason as Error).message }, 'session takeover: a member did not answer')
    }
    return handovers
  }

  async handTo (link: PeerLink, mountpoint: string, clientId: string, session: SessionHandover): Promise<void> {
    await link.request({ adopt: { mountpoint, clientId, session } }, this.host.requestTimeout())
  }
}

function sessionKey (mountpoint: string, clientId: string): string {
  return mountpoint + '\u0000' + clientId
}
