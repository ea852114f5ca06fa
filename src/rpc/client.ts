// The Admin service's clients: the CLI's (one connection per command) and a
// node's to its members (over the member's channel); a deadline on every
// call, failures turned into errors that name the node.
import * as grpc from '@grpc/grpc-js'
import { vmqProto } from './proto.js'
import { COOKIE_METADATA } from './server.js'
import { channel, explainTlsFailure, type ClientTls } from './tls.js'
import type { AdminClient as GeneratedAdminClient } from './generated/vmq/Admin.js'

export const DEFAULT_DEADLINE_MS = 5000

/** Why a call failed, for the CLI to map onto exit codes. */
export class RpcFailure extends Error {
  constructor (message: string, readonly kind: 'unreachable' | 'tls' | 'refused' | 'invalid' | 'not_found' | 'failed') {
    super(message)
  }
}

type UnaryMethod<Req, Res> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall

export class AdminClient {
  private readonly client: GeneratedAdminClient

  /**
   * `tls` undefined: a plain vmq listener; otherwise the CA to trust and the
   * client certificate for a vmqs one. `shared`: a client over a channel
   * someone else owns (a node's channel to a member): close() leaves it open.
   */
  constructor (readonly address: string, private readonly cookie: string, private readonly deadlineMs = DEFAULT_DEADLINE_MS, private readonly tls?: ClientTls, private readonly shared?: GeneratedAdminClient) {
    if (shared !== undefined) {
      this.client = shared
      return
    }
    const Admin = vmqProto().Admin
    const { credentials, options } = channel(address, tls)
    this.client = new Admin(address, credentials, options)
  }

  async call<Req, Res> (method: keyof GeneratedAdminClient & string, request: Req): Promise<Res> {
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.cookie)
    const fn = (this.client[method] as unknown as UnaryMethod<Req, Res>).bind(this.client)
    return await new Promise<Res>((resolve, reject) => {
      fn(request, metadata, { deadline: Date.now() + this.deadlineMs }, (err, res) => {
        if (err !== null) this.failure(err).then(reject, reject)
        else resolve(res as Res)
      })
    })
  }

  /** A server-streaming call: every reply in order. */
  async stream<Req, Res> (method: keyof GeneratedAdminClient & string, request: Req, deadlineMs: number, onReply: (reply: Res) => void): Promise<void> {
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.cookie)
    const fn = (this.client[method] as unknown as (req: Req, md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<Res>).bind(this.client)
    const call = fn(request, metadata, { deadline: Date.now() + deadlineMs })
    try {
      for await (const reply of call) onReply(reply as Res)
    } catch (err) {
      throw await this.failure(err as grpc.ServiceError)
    }
  }

  /**
   * A server-streaming call without a deadline, that runs until the caller
   * cancels it or the server ends it (trace client). Its errors are the raw
   * gRPC ones; describe() turns them into the usual lines.
   */
  open<Req, Res> (method: keyof GeneratedAdminClient & string, request: Req): grpc.ClientReadableStream<Res> {
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.cookie)
    const fn = (this.client[method] as unknown as (req: Req, md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<Res>).bind(this.client)
    return fn(request, metadata, {})
  }

  /** The failure a gRPC error of this client's calls stands for. */
  async describe (err: grpc.ServiceError): Promise<RpcFailure> {
    return await this.failure(err)
  }

  close (): void {
    if (this.shared === undefined) this.client.close()
  }

  private async failure (err: grpc.ServiceError): Promise<RpcFailure> {
    switch (err.code) {
      case grpc.status.UNAVAILABLE: {
        // a failed TLS handshake is UNAVAILABLE too: say so rather than "not responding"
        const tlsReason = await explainTlsFailure(this.address, this.tls)
        if (tlsReason !== undefined) return new RpcFailure(`Node '${this.address}' not reachable: ${tlsReason}`, 'tls')
        return new RpcFailure(`Node '${this.address}' not responding`, 'unreachable')
      }
      case grpc.status.DEADLINE_EXCEEDED:
        return new RpcFailure(`Node '${this.address}' not responding`, 'unreachable')
      case grpc.status.UNAUTHENTICATED:
        return new RpcFailure(`Node '${this.address}' refused the call: wrong distributed_cookie`, 'refused')
      case grpc.status.INVALID_ARGUMENT:
        return new RpcFailure(err.details, 'invalid')
      case grpc.status.NOT_FOUND:
        return new RpcFailure(err.details, 'not_found')
      default:
        return new RpcFailure(`RPC to '${this.address}' failed: ${err.details}`, 'failed')
    }
  }
}
