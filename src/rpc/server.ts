// The node's gRPC server: the Admin service the CLI calls and the Cluster
// service other nodes call. Every call must carry the distributed_cookie as
// `vmq-cookie` metadata; calls without the right one are refused (cookie-check.ts).
import * as grpc from '@grpc/grpc-js'
import { CodedError, type ErrorCode } from '../errors.js'
import { cookieInterceptor, type RefusalLog } from './cookie-check.js'

export { COOKIE_METADATA } from './cookie-check.js'

export interface ServiceBinding {
  definition: grpc.ServiceDefinition
  handlers: grpc.UntypedServiceImplementation
}

export interface RpcServer {
  port: number
  close: () => Promise<void>
}

/** A unary handler from an async function of the request; a coded error becomes its gRPC status. */
export function unary<Req, Res> (fn: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      reply => { callback(null, reply) },
      (err: Error) => { callback(toStatus(err)) })
  }
}

const STATUS: Record<ErrorCode, grpc.status> = {
  invalid: grpc.status.INVALID_ARGUMENT,
  not_found: grpc.status.NOT_FOUND
}

export function toStatus (err: Error): Partial<grpc.StatusObject> {
  const code = err instanceof CodedError ? STATUS[err.code] : grpc.status.INTERNAL
  return { code, details: err.message }
}

/**
 * The largest message the server reads: a batch of routed publishes may hold
 * one PUBLISH of the protocol's largest size (256 MB) with its topic and
 * properties; batches of smaller ones stay near 1 MB (peer-link.ts). gRPC's
 * default of 4 MB broke the link at the first larger message. No body is read
 * before the cookie is checked, so only members and admins can send one.
 */
const MAX_RECEIVE_BYTES = 268_435_455 + 1024 * 1024

/** Serves `bindings` on the cluster listener (vmq or vmqs) with `credentials`. */
export async function startRpcServer (listener: { type: string, name: string, host: string, port: number }, credentials: grpc.ServerCredentials, cookie: () => string, refused: RefusalLog, bindings: ServiceBinding[]): Promise<RpcServer> {
  const { host, port } = listener
  const server = new grpc.Server({
    'grpc.keepalive_time_ms': 10000,
    'grpc.keepalive_timeout_ms': 5000,
    'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
    interceptors: [cookieInterceptor(cookie, refused)]
  })
  for (const { definition, handlers } of bindings) server.addService(definition, handlers)
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
