// Resuming a persistent session: its stored queue, read when the client
// reconnects, goes out ahead of what arrived live while it was read. A message
// sent on an earlier connection goes out again with DUP and the packet id it
// was sent with; a stored PUBREL (QoS 2 half done) is sent again at once; a
// message whose expiry interval passed, or one larger than the client's
// Maximum Packet Size, is dropped.
//
// aedes emits a QoS 1/2 message after storing it, so a message stored before
// the queue was read may still arrive live afterwards: the session skips those
// copies for RECENT_MS, recognising them by origin (originKey).
import type { Entry } from './inflight.js'
import { hasExpired } from './message-expiry.js'
import type { OutPacket } from './out-packet.js'

/** how long keys of a loaded backlog are kept to recognise late live copies */
export const RECENT_MS = 10000

/** What loading a stored queue asks of the session it resumes. */
export interface ResumingSession {
  /** A stored PUBREL: sent again at once, in the window. */
  release: (messageId: number, now: number) => void
  /** The entry for a stored message, at the QoS it is delivered at now. */
  entry: (packet: OutPacket) => Entry
  /** Drops an entry whose message expired (counted, logged, its stored copy deleted). */
  expire: (entry: Entry) => void
  /** True (counted, logged) when the message at `qos` is larger than the client accepts. */
  exceedsMaximum: (packet: OutPacket, qos: number) => boolean
  /** Forgets an entry that will not be delivered: its packet id and its stored copy. */
  discard: (entry: Entry) => void
  /** Takes `messageId` for this connection; false when it is already in use. */
  reserve: (messageId: number) => boolean
}

/** Reads the whole stored queue; on a read error, what was read before it. */
export async function readStored (stored: AsyncIterable<OutPacket>, failed: (err: Error) => void): Promise<OutPacket[]> {
  const backlog: OutPacket[] = []
  try {
    for await (const packet of stored) backlog.push(packet)
  } catch (err) {
    failed(err as Error)
  }
  return backlog
}

/**
 * The entries to deliver from a stored queue, in its order, and the origin
 * keys of its messages. PUBRELs are handed to the session as they come.
 */
export function storedEntries (backlog: OutPacket[], now: number, session: ResumingSession): { entries: Entry[], keys: Set<string> } {
  const keys = new Set<string>()
  const entries: Entry[] = []
  for (const stored of backlog) {
    if (stored.cmd === 'pubrel') {
      session.release(stored.messageId ?? 0, now)
      continue
    }
    if (stored.brokerId != null) keys.add(originKey(stored))
    const entry = session.entry({ ...stored, cmd: 'publish' })
    entry.stored = true
    if (hasExpired(entry.packet, now)) {
      session.expire(entry)
      continue
    }
    if (session.exceedsMaximum(entry.packet, entry.qos)) {
      session.discard(entry)
      continue
    }
    if (stored.messageId !== undefined && session.reserve(stored.messageId)) {
      entry.messageId = stored.messageId
      entry.dup = true
    }
    entries.push(entry)
  }
  return { entries, keys }
}

/** Puts the stored entries ahead of the live ones waiting in `queue`, leaving out live copies of stored messages. */
export function putAhead (queue: { drain: () => Entry[], push: (entry: Entry) => void }, entries: Entry[], keys: Set<string>): void {
  const live = queue.drain()
  for (const entry of entries) queue.push(entry)
  for (const entry of live) {
    if (entry.packet.brokerId == null || !keys.has(originKey(entry.packet))) queue.push(entry)
  }
}

/** True (once per key) for a live copy of a message loaded from the stored queue. */
export function isRecentCopy (recent: Set<string>, packet: OutPacket): boolean {
  if (packet.brokerId == null) return false
  return recent.delete(originKey(packet))
}

/** A message's origin: the broker that published it and its counter there. */
function originKey (packet: OutPacket): string {
  return `${packet.brokerId ?? ''}\u0000${packet.brokerCounter ?? 0}`
}
