// The distributed_cookie check of every gRPC call, done on the call's metadata
// before its body is read or deserialized: a refused call costs its headers only.
import * as grpc from '@grpc/grpc-js'
import { createHash, timingSafeEqual } from 'node:crypto'

export const COOKIE_METADATA = 'vmq-cookie'

/** Told about refused calls, at most once a minute per caller address. */
export type RefusalLog = (peer: string, method: string, refusedSinceLast: number) => void

const LOG_EVERY_MS = 60_000
const MAX_TRACKED_PEERS = 1000

export function cookieInterceptor (cookie: () => string, log: RefusalLog): grpc.ServerInterceptor {
  const refusals = new RefusalCounter(log)
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: next => {
      next({
        onReceiveMetadata: (metadata, pass) => {
          if (cookieMatches(metadata.get(COOKIE_METADATA)[0], cookie())) {
            pass(metadata)
            return
          }
          refusals.add(call.getConnectionInfo().remoteAddress ?? call.getPeer(), method.path)
          call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'wrong distributed_cookie' })
        }
      })
    }
  })
}

/** Constant time whatever the lengths: the digests are compared, never the texts. An empty cookie matches nothing. */
export function cookieMatches (given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given === '' || expected === '') return false
  return timingSafeEqual(digest(given), digest(expected))
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

class RefusalCounter {
  private readonly peers = new Map<string, { loggedAt: number, since: number }>()

  constructor (private readonly log: RefusalLog) {}

  add (peer: string, method: string): void {
    const now = Date.now()
    const seen = this.peers.get(peer)
    if (seen !== undefined && now - seen.loggedAt < LOG_EVERY_MS) {
      seen.since++
      return
    }
    if (this.peers.size >= MAX_TRACKED_PEERS) this.peers.clear()
    this.peers.set(peer, { loggedAt: now, since: 0 })
    this.log(peer, method, seen?.since ?? 0)
  }
}
