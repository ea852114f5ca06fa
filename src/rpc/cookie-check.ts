// The distributed_cookie check of every gRPC call, done on the call's metadata
// before its body is read or deserialized: a refused call costs its headers only.
import * as grpc from '@grpc/grpc-js'
import { createHash, timingSafeEqual } from 'node:crypto'
import { OncePer } from './rate-limit.js'

export const COOKIE_METADATA = 'vmq-cookie'

/** Told about refused calls, at most once a minute per caller address. */
export type RefusalLog = (peer: string, method: string, refusedSinceLast: number) => void

const LOG_EVERY_MS = 60_000

export function cookieInterceptor (cookie: () => string, log: RefusalLog): grpc.ServerInterceptor {
  const refusals = new OncePer(LOG_EVERY_MS)
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: next => {
      next({
        onReceiveMetadata: (metadata, pass) => {
          if (cookieMatches(metadata.get(COOKIE_METADATA)[0], cookie())) {
            pass(metadata)
            return
          }
          const peer = call.getConnectionInfo().remoteAddress ?? call.getPeer()
          const heldBack = refusals.hit(peer)
          if (heldBack !== undefined) log(peer, method.path, heldBack)
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
