// Routed publishes the peer links dropped (member unreachable, too slow, or
// removed before confirming them): counted for the metrics, and logged at most
// once per member per interval with the count since its previous line, so a
// member that drops thousands a second does not flood the log. Drops held
// back are logged when the interval ends, not only with the next drop.
import type { Logger } from 'pino'

export const DROP_LOG_INTERVAL_MS = 10000

interface PeerDrops { unlogged: number, loggedAt: number, timer: NodeJS.Timeout | undefined }

export class RouteDrops {
  /** routed publishes dropped */
  count = 0
  /** bytes of the routed publishes dropped */
  bytes = 0
  /** routed publishes dropped, by member */
  readonly byPeer = new Map<string, number>()
  private readonly peers = new Map<string, PeerDrops>()

  constructor (private readonly log: Logger, private readonly intervalMs = DROP_LOG_INTERVAL_MS) {}

  add (peer: string, count: number, bytes: number): void {
    this.count += count
    this.bytes += bytes
    this.byPeer.set(peer, (this.byPeer.get(peer) ?? 0) + count)
    let entry = this.peers.get(peer)
    if (entry === undefined) this.peers.set(peer, entry = { unlogged: 0, loggedAt: 0, timer: undefined })
    entry.unlogged += count
    const wait = entry.loggedAt + this.intervalMs - Date.now()
    if (wait <= 0) this.write(peer, entry)
    else entry.timer ??= unref(setTimeout(() => { this.write(peer, entry) }, wait))
  }

  private write (peer: string, entry: PeerDrops): void {
    clearTimeout(entry.timer)
    entry.timer = undefined
    if (entry.unlogged === 0) return
    this.log.warn({ member: peer, dropped: entry.unlogged }, 'routed publishes dropped: the member was unreachable, too slow, or removed before confirming them')
    entry.unlogged = 0
    entry.loggedAt = Date.now()
  }

  /** Writes what is not logged yet (the node stops). */
  close (): void {
    for (const [peer, entry] of this.peers) this.write(peer, entry)
  }
}

function unref (timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref()
  return timer
}
