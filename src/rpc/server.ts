// The node's gRPC server: the Admin service the CLI calls (and later the Cluster
// service). Every call must carry the distributed_cookie as `vmq-cookie` metadata.
import * as grpc from '@grpc/grpc-js'
import { timingSafeEqual } from 'node:crypto'
import { vmqProto } from './proto.js'
import { InvalidRequest } from './errors.js'
import type { AdminHandlers as GeneratedAdminHandlers } from './generated/vmq/Admin.js'

export const COOKIE_METADATA = 'vmq-cookie'

type Unary<Req, Res> = (request: Req) => Promise<Res>
/** A generated service's handlers as plain async functions of the request. */
export type ServiceImpl<H> = {
  [K in keyof H as string extends K ? never : K]: H[K] extends grpc.handleUnaryCall<infer Req, infer Res> ? Unary<Req, Res> : never
}

export type AdminImpl = ServiceImpl<GeneratedAdminHandlers>

export interface RpcServer {
  port: number
  close: () => Promise<void>
}

export async function startRpcServer (host: string, port: number, cookie: () => string, admin: AdminImpl): Promise<RpcServer> {
  const server = new grpc.Server()
  server.addService(vmqProto().Admin.service, guardAll(admin, cookie))
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err !== null) reject(err)
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

function guardAll (impl: Record<string, Unary<any, any>>, cookie: () => string): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {}
  for (const [name, fn] of Object.entries(impl)) handlers[name] = guard(fn, cookie)
  return handlers
}

function guard (fn: Unary<unknown, unknown>, cookie: () => string): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    if (!cookieMatches(call.metadata, cookie())) {
      callback({ code: grpc.status.UNAUTHENTICATED, details: 'wrong distributed_cookie' })
      return
    }
    fn(call.request).then(
      reply => { callback(null, reply) },
      (err: Error) => {
        const code = err instanceof InvalidRequest ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL
        callback({ code, details: err.message })
      })
  }
}

function cookieMatches (metadata: grpc.Metadata, expected: string): boolean {
  const given = metadata.get(COOKIE_METADATA)[0]
  if (typeof given !== 'string') return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
