// The node's gRPC server: the Admin service the CLI calls and the Cluster
// service other nodes call. Every call must carry the distributed_cookie as
// `vmq-cookie` metadata; calls without the right one are refused.
import * as grpc from '@grpc/grpc-js'
import { timingSafeEqual } from 'node:crypto'
import { InvalidRequest, NotFound } from './errors.js'

export const COOKIE_METADATA = 'vmq-cookie'

export interface ServiceBinding {
  definition: grpc.ServiceDefinition
  handlers: grpc.UntypedServiceImplementation
}

export interface RpcServer {
  port: number
  close: () => Promise<void>
}

/** A unary handler from an async function of the request; InvalidRequest becomes INVALID_ARGUMENT, NotFound NOT_FOUND. */
export function unary<Req, Res> (fn: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      reply => { callback(null, reply) },
      (err: Error) => { callback(toStatus(err)) })
  }
}

export function toStatus (err: Error): Partial<grpc.StatusObject> {
  const code = err instanceof InvalidRequest ? grpc.status.INVALID_ARGUMENT : err instanceof NotFound ? grpc.status.NOT_FOUND : grpc.status.INTERNAL
  return { code, details: err.message }
}

/** Serves `bindings` on the cluster listener (vmq or vmqs) with `credentials`. */
export async function startRpcServer (listener: { type: string, name: string, host: string, port: number }, credentials: grpc.ServerCredentials, cookie: () => string, bindings: ServiceBinding[]): Promise<RpcServer> {
  const { host, port } = listener
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 10000, 'grpc.keepalive_timeout_ms': 5000 })
  for (const { definition, handlers } of bindings) server.addService(definition, guardAll(handlers, cookie))
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, credentials, (err, p) => {
      if (err !== null) reject(new Error(`listener.${listener.type}.${listener.name} = ${host}:${port}: cannot listen: ${err.message}`))
      else resolve(p)
    })
  })
  return {
    port: bound,
    close: async () => {
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { server.forceShutdown(); resolve() }, 2000)
        server.tryShutdown(() => { clearTimeout(timer); resolve() })
      })
    }
  }
}

type AnyCall = { metadata: grpc.Metadata, emit: (event: 'error', err: Partial<grpc.StatusObject>) => boolean }

function guardAll (handlers: grpc.UntypedServiceImplementation, cookie: () => string): grpc.UntypedServiceImplementation {
  const guarded: grpc.UntypedServiceImplementation = {}
  for (const [name, handler] of Object.entries(handlers)) {
    guarded[name] = ((call: AnyCall, callback?: (err: Partial<grpc.StatusObject>) => void) => {
      if (!cookieMatches(call.metadata, cookie())) {
        const refusal = { code: grpc.status.UNAUTHENTICATED, details: 'wrong distributed_cookie' }
        if (callback !== undefined) callback(refusal)
        else call.emit('error', refusal)
        return
      }
      (handler as (call: AnyCall, callback?: unknown) => void)(call, callback)
    }) as grpc.UntypedHandleCall
  }
  return guarded
}

function cookieMatches (metadata: grpc.Metadata, expected: string): boolean {
  const given = metadata.get(COOKIE_METADATA)[0]
  if (typeof given !== 'string') return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
