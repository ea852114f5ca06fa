// This node's stream to one peer: it carries our messages to the peer and the
// peer's replies back. It reconnects by itself (backoff capped at 1 s) until
// closed; `up` is true between the peer's answer to our Hello and a failure.
import * as grpc from '@grpc/grpc-js'
import { linkMessageSize } from '../rpc/link-traffic.js'
import { COOKIE_METADATA } from '../rpc/server.js'
import type { ClusterClient } from '../rpc/generated/vmq/Cluster.js'
import type { PeerMessage } from '../rpc/generated/vmq/PeerMessage.js'
import type { Reply__Output } from '../rpc/generated/vmq/Reply.js'
import type { Hello } from '../rpc/generated/vmq/Hello.js'
import type { Publish } from '../rpc/generated/vmq/Publish.js'
import { MAX_BACKOFF_MS, MIN_BACKOFF_MS } from './peer-channels.js'
/**
 * Routed publishes are dropped (and counted) while more than this many bytes
 * wait to be written to the peer: a slow or stuck peer must not grow this
 * node's memory without bound.
 */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024
/**
 * Publishes of one turn travel together up to about this many payload bytes:
 * a batch is one gRPC message, which the member's server reads whole.
 */
const BATCH_BYTES = 1024 * 1024
/**
 * A member that has just joined is not a netsplit while its link comes up for
 * the first time: counting it as one would refuse registrations and drop the
 * publishes of every client on this node (allow_*_during_netsplit) for the
 * moment of each join. It has no subscriptions we could miss until its Hello.
 */
const FIRST_CONNECT_GRACE_MS = 5000

export interface LinkEvents {
  hello: () => Hello
  /** `again`: the link was up before (a netsplit resolved) */
  up: (link: PeerLink, again: boolean) => void
  /** `wasUp`: the link was up until now (a netsplit detected) */
  down: (link: PeerLink, reason: string, wasUp: boolean) => void
  /** routed publishes were dropped (the peer unreachable or too slow), `bytes` what they take on the link */
  dropped: (link: PeerLink, count: number, bytes: number) => void
}

interface Pending { resolve: (reply: Reply__Output) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }

/**
 * A batch of routed publishes with QoS 1/2 messages: the peer answers it once
 * it has them queued durably; until then the publishes' PUBACKs wait for
 * `confirmed` and the batch is sent again if the link breaks.
 */
interface ConfirmedBatch { publishes: Publish[], confirmed: Promise<void>, resolve: () => void, /** payload and topic bytes of `publishes` */ bytes: number }

function confirmedBatch (): ConfirmedBatch {
  let resolve = (): void => {}
  const confirmed = new Promise<void>(r => { resolve = r })
  return { publishes: [], confirmed, resolve, bytes: 0 }
}

export class PeerLink {
  up = false
  private everUp = false
  private readonly createdAt = Date.now()
  lastError = ''
  private stream: grpc.ClientDuplexStream<PeerMessage, Reply__Output> | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private backoff = MIN_BACKOFF_MS
  private retryTimer: NodeJS.Timeout | undefined
  private closed = false
  private batch: Publish[] = []
  /** payload and topic bytes of `batch` */
  private batchBytes = 0
  /** bytes handed to the stream and not yet written out (grpc-js counts messages, not bytes) */
  private unwritten = 0
  /** set when the batch being collected holds a QoS 1/2 publish */
  private batchConfirm: ConfirmedBatch | undefined
  /** sent batches waiting for the peer's confirmation, by request id, in order */
  private readonly unconfirmed = new Map<number, ConfirmedBatch>()
  /** batches to send again, in order, once the link is up again */
  private resend: ConfirmedBatch[] = []
  private flushScheduled = false
  /** routed publishes dropped because the peer was unreachable or too slow */
  dropped = 0

  /** `client`: over the node's one channel to the member (PeerChannels), which is not this link's to close */
  constructor (readonly name: string, readonly address: string, private readonly cookie: () => string, private readonly events: LinkEvents, private readonly client: ClusterClient) {}

  /** Whether this link makes the node not ready (a netsplit): down, and not a new member's first connect. */
  get split (): boolean {
    return !this.up && (this.everUp || Date.now() - this.createdAt > FIRST_CONNECT_GRACE_MS)
  }

  start (): void {
    this.connect()
  }

  private connect (): void {
    if (this.closed) return
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.cookie())
    const stream = this.client.Link(metadata)
    this.stream = stream
    this.unwritten = 0
    stream.on('data', (reply: Reply__Output) => { this.onReply(reply) })
    stream.on('error', (err: grpc.ServiceError) => { this.fail(stream, err.details || err.message) })
    stream.on('end', () => { this.fail(stream, 'stream ended') })
    const helloId = this.nextId++
    this.pending.set(helloId, {
      resolve: () => {
        const again = this.everUp
        this.backoff = MIN_BACKOFF_MS
        this.up = true
        this.everUp = true
        this.lastError = ''
        this.sendAgain()
        this.events.up(this, again)
      },
      reject: (err: Error) => { this.fail(stream, err.message) },
      timer: setTimeout(() => { this.fail(stream, 'no answer to hello') }, 5000)
    })
    stream.write({ id: helloId, hello: this.events.hello() })
  }

  private onReply (reply: Reply__Output): void {
    const batch = this.unconfirmed.get(reply.id)
    if (batch !== undefined) {
      this.unconfirmed.delete(reply.id)
      // an error is the peer failing to store them: sending again would fail the same way
      if (reply.error !== '') this.drop(batch.publishes, true)
      batch.resolve()
      return
    }
    const pending = this.pending.get(reply.id)
    if (pending === undefined) return
    this.pending.delete(reply.id)
    clearTimeout(pending.timer)
    if (reply.error !== '') pending.reject(new Error(reply.error))
    else pending.resolve(reply)
  }

  private fail (stream: grpc.ClientDuplexStream<PeerMessage, Reply__Output>, reason: string): void {
    if (stream !== this.stream) return
    this.stream = undefined
    stream.cancel()
    const wasUp = this.up
    this.up = false
    this.lastError = reason
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.reject(new Error(`${this.name}: ${reason}`))
      this.pending.delete(id)
    }
    this.resend.push(...this.unconfirmed.values())
    this.unconfirmed.clear()
    if (wasUp || this.backoff === MIN_BACKOFF_MS) this.events.down(this, reason, wasUp)
    if (this.closed) return
    this.retryTimer = setTimeout(() => { this.connect() }, this.backoff)
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS)
  }

  /** Fire and forget; dropped while the link is down. */
  send (message: PeerMessage): boolean {
    if (!this.up || this.stream === undefined) return false
    this.flush()
    this.stream.write({ ...message, id: 0 })
    return true
  }

  /**
   * Queues a routed publish; the publishes of one event-loop turn travel as
   * one message (one frame instead of one per publish). Resolves, for a QoS
   * 1/2 message, once the peer has it queued. While the link is down such a
   * message is dropped, or with `holdWhileDown` kept to be sent when it is up again.
   */
  route (publish: Publish, holdWhileDown: boolean): Promise<void> | undefined {
    const stream = this.stream
    const down = !this.up || stream === undefined
    if ((down && !(holdWhileDown && (publish.qos ?? 0) > 0)) || (stream !== undefined && this.unwritten > MAX_BUFFERED_BYTES)) {
      this.drop([publish])
      return undefined
    }
    const size = publishBytes(publish)
    if (this.batch.length > 0 && this.batchBytes + size > BATCH_BYTES) this.flush()
    this.batch.push(publish)
    this.batchBytes += size
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => { this.flush() })
    }
    if ((publish.qos ?? 0) === 0) return undefined
    this.batchConfirm ??= confirmedBatch()
    return this.batchConfirm.confirmed
  }

  private flush (): void {
    this.flushScheduled = false
    if (this.batch.length === 0) return
    const publishes = this.batch
    const confirm = this.batchConfirm
    const bytes = this.batchBytes
    this.batch = []
    this.batchBytes = 0
    this.batchConfirm = undefined
    if (confirm !== undefined) {
      confirm.publishes = publishes
      confirm.bytes = bytes
      this.sendConfirmed(confirm)
      return
    }
    if (this.stream === undefined) {
      this.drop(publishes)
      return
    }
    this.write(this.stream, { id: 0, publishes: { publishes } }, bytes)
  }

  private write (stream: grpc.ClientDuplexStream<PeerMessage, Reply__Output>, message: PeerMessage, bytes: number): void {
    this.unwritten += bytes
    stream.write(message, () => { if (this.stream === stream) this.unwritten -= bytes })
  }

  /** Sends a batch the peer confirms; kept to send again while the link is down. */
  private sendConfirmed (batch: ConfirmedBatch): void {
    if (this.stream === undefined || !this.up) {
      this.resend.push(batch)
      return
    }
    const id = this.nextId++
    this.unconfirmed.set(id, batch)
    this.write(this.stream, { id, publishes: { publishes: batch.publishes } }, batch.bytes)
  }

  /** The batches the peer did not confirm before the link broke, first thing after the Hello (the peer keeps duplicates: QoS 1). */
  private sendAgain (): void {
    const batches = this.resend
    this.resend = []
    for (const batch of batches) this.sendConfirmed(batch)
  }

  /** `sent`: the publishes went over the link (the peer failed to store them), so no bytes were dropped */
  private drop (publishes: Publish[], sent = false): void {
    this.dropped += publishes.length
    this.events.dropped(this, publishes.length, sent ? 0 : linkMessageSize({ id: 0, publishes: { publishes } }))
  }

  /** A message the peer must answer within `timeoutMs`. */
  async request (message: PeerMessage, timeoutMs: number): Promise<Reply__Output> {
    const stream = this.stream
    if (!this.up || stream === undefined) throw new Error(`${this.name} is not reachable`)
    this.flush()
    const id = this.nextId++
    return await new Promise<Reply__Output>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
      stream.write({ ...message, id })
    })
  }

  /** The member's Cluster service, over the same channel as this link. */
  client_ (): ClusterClient { return this.client }

  /**
   * `release`: the member is gone for good (removed), so the publishes waiting
   * for its confirmation are given up (and counted) instead of waiting forever.
   * A node that stops keeps them unacknowledged: their publishers send them again.
   */
  close (release = false): void {
    this.closed = true
    clearTimeout(this.retryTimer)
    if (release) this.flush()
    const stream = this.stream
    if (stream !== undefined) this.fail(stream, 'closed')
    this.stream?.end()
    if (!release) return
    const unsent = this.resend
    const sent = [...this.unconfirmed.values()]
    this.resend = []
    this.unconfirmed.clear()
    for (const batch of unsent) {
      this.drop(batch.publishes)
      batch.resolve()
    }
    for (const batch of sent) {
      this.drop(batch.publishes, true)
      batch.resolve()
    }
  }
}

function publishBytes (publish: Publish): number {
  const payload = publish.payload
  return (payload == null ? 0 : (payload as Uint8Array).length) + (publish.topic?.length ?? 0)
}
