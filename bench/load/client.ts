// One MQTT connection of the load generator over a raw socket: pre-encoded packets,
// batched writes, no per-message objects.
import { connect, type Socket } from 'node:net'
import type { Histogram } from 'hdr-histogram-js'
import { framerFor, type Framer, type FrameSink } from './framer.js'
import { connectPacket, disconnectPacket, subscribePacket, publishRun, monotonicMicros, TIMESTAMP_BYTES, type ProtocolVersion, type PublishTemplate } from './packets.js'
import type { ClientSpec, Target } from './protocol.js'

const KEEPALIVE_SECONDS = 600
/** Largest single write of PUBLISH packets. */
const RUN_BYTES = 16 * 1024
/** Flood mode: batches written per client before yielding to the event loop. */
const BATCHES_PER_TURN = 8

/** What all clients of one worker count and share. */
export interface Shared {
  sent: number
  acked: number
  received: number
  dup: number
  errors: number
  firstError: string | null
  recording: boolean
  histogram: Histogram
  /** stop publishing once `sent` reaches this; 0 = no limit */
  limit: number
  publishing: boolean
  /**
   * End-to-end window: deliveries under way (published × `fanout` − received − `forgiven`)
   * before publishers wait for the subscribers; 0 = no window.
   */
  window: number
  fanout: number
  /** deliveries written off as lost so that the window does not stall */
  forgiven: number
  /** publishers waiting for the subscribers to catch up */
  waiting: LoadClient[]
  /**
   * When every subscriber gets every message (fan-out shapes): the subscribers, and the window
   * holds for each of them (the slowest sets the pace). A total over all subscribers would let
   * one lag far behind, past the 1,000-message queues brokers keep per client. Empty: the total.
   */
  everySubscriber: LoadClient[]
}

/** Publishes allowed now under the end-to-end window. */
function windowRoom (shared: Shared): number {
  if (shared.window === 0) return Number.MAX_SAFE_INTEGER
  if (shared.everySubscriber.length > 0) {
    let slowest = Number.MAX_SAFE_INTEGER
    for (const s of shared.everySubscriber) slowest = Math.min(slowest, s.received + s.forgiven)
    return slowest + Math.floor(shared.window / shared.fanout) - shared.sent
  }
  return Math.floor((shared.received + shared.forgiven + shared.window) / shared.fanout) - shared.sent
}

/** Wakes the publishers that wait for room in the window, once there is some. */
export function releaseWaiting (shared: Shared): void {
  if (shared.waiting.length === 0 || windowRoom(shared) <= 0) return
  const waiting = shared.waiting
  shared.waiting = []
  for (const client of waiting) client.wake()
}

/** Why a CONNACK refused, for the 3.1.1 return codes and the MQTT 5 reason codes a benchmark meets. */
function refusal (code: number): string {
  switch (code) {
    case 2: case 0x85: return ' (client id rejected)'
    case 4: case 0x86: return ' (bad user name or password)'
    case 5: case 0x87: return ' (not authorized)'
    case 0x84: return ' (protocol version not supported)'
    default: return ''
  }
}

interface Waiter { resolve: () => void, reject: (err: Error) => void }

export class LoadClient implements FrameSink {
  /** messages this client received as a subscriber, and written off for it (see Shared.forgiven) */
  received = 0
  forgiven = 0
  private socket: Socket | null = null
  private readonly framer: Framer
  private waiter: Waiter | null = null
  private acks: number[] = []
  private chunkMicros = 0
  private template: PublishTemplate | null = null
  private run: Buffer | null = null
  private runCount = 0
  private maxInflight = 0
  private inflight = 0
  private nextId = 1
  private blocked = false
  private closed = false
  /** flood mode: the loop to resume when the QoS 1 window or the end-to-end window opens */
  private resume: (() => void) | null = null

  constructor (readonly spec: ClientSpec, private readonly target: Target, private readonly shared: Shared, private readonly subscribeQos: 0 | 1, readonly protocol: ProtocolVersion) {
    this.framer = framerFor(protocol, this)
  }

  get isOpen (): boolean { return this.socket !== null && !this.closed }

  /** Connects, waits for CONNACK and, when the spec subscribes, for SUBACK. */
  async open (timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => this.fail(new Error(`${this.spec.clientId}: no CONNACK/SUBACK within ${timeoutMs} ms`)), timeoutMs)
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiter = { resolve, reject }
        const socket = connect({ host: this.target.host, port: this.target.port })
        this.socket = socket
        // Storm clients only ever send CONNECT: spare them the extra system call.
        if (this.spec.subscribe !== undefined || this.spec.publishTopic !== undefined) socket.setNoDelay(true)
        socket.on('connect', () => socket.write(connectPacket(this.spec.clientId, this.spec.clean, KEEPALIVE_SECONDS, this.target.credentials, this.protocol)))
        socket.on('data', chunk => this.onData(chunk))
        socket.on('error', err => this.fail(new Error(`${this.spec.clientId}: ${err.message}`)))
        socket.on('close', () => this.onClose())
      })
    } finally {
      clearTimeout(timer)
    }
  }

  connack (returnCode: number): void {
    if (returnCode !== 0) {
      this.fail(new Error(`${this.spec.clientId}: CONNACK refused with ${this.protocol === 5 ? 'reason code 0x' + returnCode.toString(16) : 'return code ' + String(returnCode)}${refusal(returnCode)}`))
      return
    }
    if (this.spec.subscribe === undefined) {
      this.settle()
    } else {
      this.socket?.write(subscribePacket(this.spec.subscribe, this.subscribeQos, 1, this.protocol))
    }
  }

  suback (grantedQos: number): void {
    // 3.1.1 refuses with 0x80; MQTT 5 reason codes from 0x80 up are all refusals.
    if (grantedQos >= 0x80) {
      this.fail(new Error(`${this.spec.clientId}: subscription to ${this.spec.subscribe ?? ''} refused (SUBACK 0x${grantedQos.toString(16)})`))
      return
    }
    this.settle()
  }

  publish (buf: Buffer, payloadStart: number, end: number, qos: number, dup: boolean, packetId: number): void {
    const shared = this.shared
    shared.received++
    this.received++
    if (dup) shared.dup++
    if (qos > 0) this.acks.push(packetId)
    if (shared.recording && end - payloadStart >= TIMESTAMP_BYTES) {
      const micros = this.chunkMicros - buf.readDoubleLE(payloadStart)
      shared.histogram.recordValue(micros < 1 ? 1 : Math.round(micros))
    }
  }

  puback (): void {
    this.shared.acked++
    this.inflight--
    if (this.blocked && this.inflight <= this.maxInflight / 2) {
      this.blocked = false
      if (this.resume !== null) setImmediate(this.resume)
    }
  }

  /** Prepares the packets this client publishes. */
  preparePublishing (template: PublishTemplate, maxInflight: number): void {
    this.template = template
    this.runCount = Math.max(1, Math.floor(RUN_BYTES / template.bytes.length))
    this.run = publishRun(template, this.runCount)
    this.maxInflight = template.idOffset < 0 ? Number.MAX_SAFE_INTEGER : Math.min(maxInflight, 65535)
  }

  /** Flood mode: writes as fast as the socket and both windows allow until `shared.publishing` is off. */
  startFlood (): void {
    this.resume = this.pump
    setImmediate(this.pump)
  }

  /** There is room in the end-to-end window again. */
  wake (): void {
    if (this.resume !== null) setImmediate(this.resume)
  }

  private readonly pump = (): void => {
    for (let turn = 0; turn < BATCHES_PER_TURN; turn++) {
      if (!this.shared.publishing || !this.isOpen) return
      const result = this.send(this.runCount)
      if (result === 'window' || result === 'credit' || result === 'limit') return
      if (result === 'drain') {
        this.socket?.once('drain', this.pump)
        return
      }
    }
    setImmediate(this.pump)
  }

  /** Writes up to `count` packets in one write; says why it wrote fewer or must wait. */
  send (count: number): 'ok' | 'drain' | 'window' | 'credit' | 'limit' {
    const template = this.template
    const run = this.run
    const socket = this.socket
    if (template === null || run === null || socket === null || this.closed) return 'limit'
    const shared = this.shared
    const room = windowRoom(shared)
    let n = Math.min(count, this.runCount, this.maxInflight - this.inflight, room)
    if (shared.limit > 0) n = Math.min(n, shared.limit - shared.sent)
    if (n <= 0) {
      if (shared.limit > 0 && shared.sent >= shared.limit) return 'limit'
      if (room <= 0) {
        if (this.resume !== null && !shared.waiting.includes(this)) shared.waiting.push(this)
        return 'credit'
      }
      this.blocked = true
      return 'window'
    }
    const size = template.bytes.length
    const out = Buffer.allocUnsafe(n * size)
    run.copy(out, 0, 0, n * size)
    const stamp = template.payloadSize >= TIMESTAMP_BYTES
    const now = monotonicMicros()
    for (let i = 0, base = 0; i < n; i++, base += size) {
      if (template.idOffset >= 0) {
        out.writeUInt16BE(this.nextId, base + template.idOffset)
        this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1
      }
      if (stamp) out.writeDoubleLE(now, base + template.payloadOffset)
    }
    if (template.idOffset >= 0) this.inflight += n
    shared.sent += n
    return socket.write(out) ? 'ok' : 'drain'
  }

  /** Sends DISCONNECT and closes; resolves when the socket is closed (at most `timeoutMs`). */
  async close (timeoutMs: number): Promise<void> {
    const socket = this.socket
    if (socket === null || this.closed) return
    this.closed = true
    const done = new Promise<void>(resolve => socket.once('close', () => resolve()))
    socket.end(disconnectPacket(this.protocol))
    const timer = setTimeout(() => socket.destroy(), timeoutMs)
    await done
    clearTimeout(timer)
  }

  private onData (chunk: Buffer): void {
    this.chunkMicros = monotonicMicros()
    this.framer.push(chunk)
    const acks = this.acks
    if (acks.length > 0 && this.socket !== null) {
      // PUBACK without reason code: in MQTT 5 too, a remaining length of 2 means Success (MQTT 5 3.4.2.1).
      const out = Buffer.allocUnsafe(acks.length * 4)
      for (let i = 0; i < acks.length; i++) {
        out[i * 4] = 0x40
        out[i * 4 + 1] = 2
        out.writeUInt16BE(acks[i], i * 4 + 2)
      }
      this.acks = []
      if (!this.closed) this.socket.write(out)
    }
    releaseWaiting(this.shared)
  }

  private onClose (): void {
    const wasClosing = this.closed
    this.closed = true
    if (!wasClosing) this.fail(new Error(`${this.spec.clientId}: connection closed by the broker`))
  }

  private settle (): void {
    const waiter = this.waiter
    this.waiter = null
    waiter?.resolve()
  }

  private fail (err: Error): void {
    const waiter = this.waiter
    this.waiter = null
    if (waiter !== null) {
      waiter.reject(err)
    } else {
      this.shared.errors++
      this.shared.firstError ??= err.message
    }
    if (!this.closed) {
      this.closed = true
      this.socket?.destroy()
    }
  }
}
