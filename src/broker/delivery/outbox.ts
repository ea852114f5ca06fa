// The outgoing queue of one connection: which message goes out now, which
// waits, which is dropped. aedes asks through authorizeForward before each
// delivery; a message that may go out now is written by the writer or returned
// (with our packet id for QoS 1/2), else it waits in the online queue and is
// sent later (the writer writes it, or hands it to aedes: see writer.ts).
//
// A persistent session keeps its QoS 1/2 messages in the stored queue as aedes
// does (queued there before delivery, removed on PUBACK/PUBCOMP). When one
// resumes, we load that queue ourselves (resume.ts) instead of letting aedes
// replay it, so the inflight window, the online limit and DUP apply to it too.
//
// The writer and the clock are given to the constructor: the unit tests drive
// a session without sockets or timers.
import type { Client } from 'aedes'
import type { BrokerCounters } from '../counters.js'
import type { Logger } from '../log.js'
import { realClock, type Cancel, type Clock } from './clock.js'
import { InflightWindow, type Entry } from './inflight.js'
import { hasExpired, setRemainingExpiry } from './message-expiry.js'
import { OnlineQueue, type QueueLimits } from './online-queue.js'
import type { OutPacket } from './out-packet.js'
import { OVERLAP, SubscriptionQos } from './outgoing-qos.js'
import { PacketIds } from './packet-ids.js'
import { publishSize } from './packet-size.js'
import { isRecentCopy, putAhead, readStored, RECENT_MS, storedEntries, type ResumingSession } from './resume.js'
import { addSubscriptionIds, SubscriptionIds } from './subscription-ids.js'
import type { QueueSettings } from './settings.js'
import type { SessionGroup } from './groups.js'
import type { Writer } from './writer.js'

/** What a session needs from its mountpoint's queue layer. */
export interface SessionHost {
  readonly settings: QueueSettings
  readonly counters: BrokerCounters
  readonly log: Logger
  /** Deletes the stored copy of a message the session will not deliver (in the background). */
  forget: (clientId: string, packet: OutPacket) => unknown
  /** Told of each message as it goes out to the client for the first time (webhooks' on_deliver). */
  delivered?: (client: Client, packet: OutPacket) => void
  /** The connection's filters, their granted QoS and MQTT 5 Subscription Identifier. */
  subscriptions: (client: Client) => Record<string, { qos: number, si?: number }>
}

/** One client's own queue settings, in QueueSettings' units. */
export interface SessionLimits { maxInflight?: number, maxOnline?: number, retryMs?: number, upgradeQos?: boolean, lifo?: boolean }

/** aedes keeps at most 65535 packet ids per connection; stay below. */
const MAX_WINDOW = 65000
const DROPPED_FULL = 'message dropped: online queue full (max_online_messages)'
const DROPPED_BYTES = 'message dropped: online queue full (outgoing_buffer_limit)'

/** What a waiting message holds in memory, roughly: its payload and its topic. */
function queuedSize (packet: OutPacket): number {
  return packet.payload.length + packet.topic.length
}

export class SessionQueue {
  /** the CONNECT asked to resume a stored session (clean session / clean start off) */
  resume = false
  /** a resumed session's stored queue is being loaded: everything waits meanwhile */
  loading = false
  /** registered and acknowledged (CONNACK sent): may receive balanced messages */
  ready = false
  closed = false
  group: SessionGroup | undefined

  private readonly ids = new PacketIds()
  /** made with the first QoS 1/2 message sent (see window): an idle connection keeps none */
  private inflight: InflightWindow | undefined
  private readonly waiting = new OnlineQueue<Entry>(entry => queuedSize(entry.packet))
  private readonly qos = new SubscriptionQos()
  private readonly subscriptionIds = new SubscriptionIds()
  private recent: Set<string> | undefined
  private recentTimer: Cancel | undefined
  private pumpScheduled = false
  /** the pump refills a window its client's acknowledgements freed: its writes leave at once */
  private flushAfterPump = false
  private dropsLogged = false

  constructor (
    readonly client: Client,
    private readonly host: SessionHost,
    private readonly writer: Writer,
    private readonly clock: Clock = realClock
  ) {}

  private get window (): InflightWindow {
    return this.inflight ??= new InflightWindow(() => this.limits.retryMs ?? this.host.settings.retryMs, entry => { this.resend(entry) }, this.clock)
  }

  /** Settings an auth plugin gave this client at CONNECT (auth_on_register modifiers); unset ones are the node's. */
  limits: SessionLimits = {}

  private get upgradeQos (): boolean { return this.limits.upgradeQos ?? this.host.settings.upgradeQos }
  private get maxOnline (): number { return this.limits.maxOnline ?? this.host.settings.maxOnline }
  private get lifo (): boolean { return this.limits.lifo ?? this.host.settings.lifo }

  /** aedes keeps the session past the connection (client.clean is set at CONNECT). */
  get persistent (): boolean { return !this.client.clean }

  /** For `session show`: messages sent and not yet acknowledged, and messages waiting to be sent. */
  get counts (): { inflight: number, waiting: number } {
    return { inflight: this.inflight?.size ?? 0, waiting: this.waiting.length }
  }

  /** Nothing waits and the window has room: a message offered now goes out at once. */
  get idle (): boolean {
    return !this.loading && this.waiting.length === 0 && this.hasRoom()
  }

  /**
   * authorizeForward for this session: the packet to send now, or null when the
   * message waits (it is then sent later) or is dropped.
   */
  forward (packet: OutPacket): OutPacket | null {
    if (this.writer.notReading()) return null
    if (this.client.version === 5) this.addSubscriptionIds(packet)
    if (packet.qos === 0 && !this.upgradeQos) {
      if (this.exceedsMaximum(packet, 0)) return null
      if (!this.loading && this.waiting.length === 0) return this.sendQos0(packet)
      this.enqueue(packet, 0)
      return null
    }
    if (this.recent !== undefined && isRecentCopy(this.recent, packet)) return null
    const found = this.qos.lookup(this.host.subscriptions(this.client), packet.topic)
    return this.forwardAt(packet, this.deliveredQos(packet.qos, found), found >= 0 && (found & OVERLAP) !== 0)
  }

  /**
   * Offers a message routed here by the session group (balance / fanout) or
   * another member leaving: it goes through the queue like any other.
   */
  offer (packet: OutPacket, qos: number): void {
    if (this.exceedsMaximum(packet, qos)) {
      this.discard(this.entry(packet, qos))
      return
    }
    this.enqueue(packet, qos)
    this.schedulePump()
  }

  /** The group gave this member's message to another member: its stored copy goes. */
  handedOff (packet: OutPacket): void {
    if (!this.client.clean && packet.qos > 0 && packet.brokerId != null) this.host.forget(this.client.id, packet)
  }

  /** The QoS `packet` is delivered at on this connection. */
  qosFor (packet: OutPacket): number {
    return this.deliveredQos(packet.qos, this.qos.lookup(this.host.subscriptions(this.client), packet.topic))
  }

  subscriptionsChanged (): void {
    this.qos.invalidate()
    this.subscriptionIds.invalidate()
  }

  /** The real packet behind a stub sent through client.publish. */
  takeInjected (counter: number | undefined): OutPacket | null {
    return this.writer.takeInjected(counter)
  }

  /**
   * PUBACK or PUBCOMP for `messageId`. True when the message was a QoS 1
   * message written here (writeQos): aedes has nothing to do for its PUBACK.
   */
  acked (messageId: number): boolean {
    const entry = this.inflight?.ack(messageId)
    if (entry === undefined) return false
    this.ids.release(messageId)
    if (this.waiting.length > 0) {
      this.flushAfterPump = true
      this.schedulePump()
    }
    return entry.direct && entry.qos === 1
  }

  /**
   * A PUBREC from the client, before aedes handles it. aedes answers it with
   * PUBREL, so a retry must be that PUBREL, not the PUBLISH (MQTT-4.3.3). An
   * MQTT 5 PUBREC with an error reason ends the exchange: no PUBREL follows
   * (aedes clears a persistent session's stored copy).
   */
  pubrecReceived (messageId: number, reasonCode: number | undefined): void {
    if (this.client.version === 5 && (reasonCode ?? 0) >= 0x80) {
      this.acked(messageId)
      return
    }
    this.inflight?.released(messageId, this.clock.now())
  }

  /** Stops the session; returns its unacknowledged and waiting messages, oldest first. */
  close (): Entry[] {
    this.closed = true
    this.inflight?.close()
    this.recentTimer?.()
    this.writer.close()
    this.recent = undefined
    return [...(this.inflight?.drain() ?? []), ...this.waiting.drain()]
  }

  /**
   * Loads the stored queue of a resumed persistent session, in order, ahead of
   * what arrived live meanwhile (see resume.ts).
   */
  async loadStored (stored: AsyncIterable<OutPacket>): Promise<void> {
    const backlog = await readStored(stored, err => {
      this.host.log.warn({ client: this.client.id, err: err.message }, 'cannot read the stored queue of a resumed session')
    })
    if (this.closed) return
    const { entries, keys } = storedEntries(backlog, this.clock.now(), this.resuming())
    putAhead(this.waiting, entries, keys)
    this.rememberRecent(keys)
    this.loading = false
    this.pump()
    if (!this.host.settings.overrideMaxOnline) {
      const limits = this.queueLimits()
      const reason = this.fullReason(limits)
      for (const dropped of this.waiting.trim(limits, this.lifo)) this.drop(dropped, reason)
    }
  }

  /** Ends loading without a stored queue (aedes discards it: clean start, or a session that ends with the connection). */
  loadNothing (): void {
    if (!this.loading) return
    this.loading = false
    this.schedulePump()
  }

  /** MQTT 5: the identifiers of every matching subscription, not only the one aedes matched first (retained messages keep the subscribing one's). */
  private addSubscriptionIds (packet: OutPacket): void {
    if (packet.brokerId == null) return
    addSubscriptionIds(packet, this.subscriptionIds.lookup(this.host.subscriptions(this.client), packet.topic))
  }

  /** A QoS 0 message nothing waits before: written here when it can be (see writeQos0), else aedes sends it. */
  private sendQos0 (packet: OutPacket): OutPacket | null {
    const result = this.writer.qos0(packet, this.maxOnline)
    if (result === 'not-here') return packet
    if (result !== 'dropped') this.host.counters.publishSent++
    if (result !== 'dropped') this.host.delivered?.(this.client, packet)
    if (result === 'dropped') this.dropped(packet.topic, 0, 'QoS 0 message dropped: the connection is not taking messages (max_online_messages)')
    return null
  }

  private deliveredQos (published: number, found: number): number {
    if (found < 0) return published
    const subscribed = found & 3
    return this.upgradeQos ? subscribed : Math.min(published, subscribed)
  }

  /**
   * Goes out now through aedes when nothing waits: aedes then sends `packet` at
   * its QoS, unless it holds a QoS 0 message aedes would send at QoS 0 (an
   * upgrade) or the topic matches QoS 0 and higher filters (aedes may use
   * either); those go through client.publish at the QoS decided here.
   */
  private forwardAt (packet: OutPacket, qos: number, overlap: boolean): OutPacket | null {
    if (this.exceedsMaximum(packet, qos)) {
      this.discard(this.entry(packet, qos))
      return null
    }
    const viaStub = qos > 0 && (overlap || packet.qos === 0)
    if (!viaStub && !this.loading && this.waiting.length === 0) {
      if (qos === 0) {
        // written here like any QoS 0 message: through aedes, a connection
        // that stopped reading would hold the broker's emitter (see writeQos0)
        packet.qos = 0
        return this.sendQos0(packet)
      }
      if (this.hasRoom()) {
        const entry = this.entry(packet, qos)
        this.send(entry)
        return this.writeDirect(entry) ? null : packet
      }
    }
    this.enqueue(packet, qos)
    if (viaStub) this.schedulePump()
    return null
  }

  private entry (packet: OutPacket, qos: number): Entry {
    return {
      packet,
      qos,
      stored: this.isStored(packet, qos),
      messageId: 0,
      dup: false,
      sentAt: 0,
      released: false,
      direct: false
    }
  }

  /** aedes stores QoS 1/2 messages for persistent subscriptions (QoS > 0) before delivery. */
  private isStored (packet: OutPacket, qos: number): boolean {
    return !this.client.clean && packet.qos > 0 && qos > 0 && packet.brokerId != null
  }

  private hasRoom (): boolean {
    const configured = this.limits.maxInflight ?? this.host.settings.maxInflight
    let limit = configured === 0 ? MAX_WINDOW : Math.min(configured, MAX_WINDOW)
    if (this.client.version === 5) {
      limit = Math.min(limit, this.host.settings.receiveMaxClient)
      if (this.client.receiveMaximum > 0) limit = Math.min(limit, this.client.receiveMaximum)
    }
    return (this.inflight?.size ?? 0) < limit
  }

  /**
   * What the online queue may hold now: max_online_messages messages, and with
   * the connection's pending writes no more than outgoing_buffer_limit bytes
   * (a client that reads but does not acknowledge has nothing pending, and
   * without this its queue would grow with the message sizes).
   */
  private queueLimits (): QueueLimits {
    const limit = this.host.settings.outgoingBufferLimit
    return { count: this.maxOnline, bytes: limit > 0 ? limit - this.writer.pendingBytes() : Infinity }
  }

  /** The limit a full queue is at: the message count first. */
  private fullReason (limits: QueueLimits): string {
    return limits.count >= 0 && this.waiting.length >= limits.count ? DROPPED_FULL : DROPPED_BYTES
  }

  /**
   * Queues a message behind the others, or drops it (or with lifo the oldest
   * ones) when the queue is full (see queueLimits). A message dropped on arrival gets
   * no Entry: V8 allocates Entries in the old generation once many of them
   * live long (queued ones do), and an old Entry pointing at a dropped message
   * keeps it and its payload alive until the next full GC; against a client
   * that stopped reading that was tens of MB of garbage held at any time.
   */
  private enqueue (packet: OutPacket, qos: number): void {
    if (this.loading) {
      this.waiting.push(this.entry(packet, qos)) // trimmed once the stored queue is loaded
      return
    }
    const limits = this.queueLimits()
    if (!this.lifo && !this.waiting.fits(queuedSize(packet), limits)) {
      this.dropped(packet.topic, qos, this.fullReason(limits))
      if (this.isStored(packet, qos)) this.host.forget(this.client.id, packet)
      return
    }
    const reason = this.fullReason(limits)
    for (const dropped of this.waiting.offer(this.entry(packet, qos), limits, this.lifo)) this.drop(dropped, reason)
  }

  private drop (entry: Entry, reason: string): void {
    this.dropped(entry.packet.topic, entry.qos, reason)
    this.discard(entry)
  }

  /** Counts a message dropped for a full queue; the first of a connection is logged as a warning, the rest at debug. */
  private dropped (topic: string, qos: number, reason: string): void {
    this.host.counters.onlineDropped++
    if (this.dropsLogged) {
      this.host.log.debug({ client: this.client.id, topic, qos }, reason)
      return
    }
    this.dropsLogged = true
    this.host.log.warn({ client: this.client.id, topic, qos }, `${reason}; further drops for this connection are counted (queue_message_drop) and logged at debug only`)
  }

  /**
   * MQTT 5: a PUBLISH larger than the client's Maximum Packet Size is not sent
   * to it; it is dropped as if it had been sent (MQTT-3.1.2-24/25). Checked
   * before the message takes either path, the direct write or aedes'. (3.1.1
   * has no such limit.)
   */
  private exceedsMaximum (packet: OutPacket, qos: number): boolean {
    const max = this.client.version === 5 ? this.client.maximumPacketSize : undefined
    if (max === undefined || max <= 0) return false
    const size = publishSize(packet, qos)
    if (size <= max) return false
    this.host.counters.tooLargeForClient++
    this.host.log.debug({ client: this.client.id, topic: packet.topic, size, max }, 'message dropped: larger than the maximum packet size the client accepts')
    return true
  }

  private expire (entry: Entry): void {
    this.host.counters.messagesExpired++
    this.host.log.debug({ client: this.client.id, topic: entry.packet.topic, qos: entry.qos }, 'message dropped: its message expiry interval passed before delivery')
    this.discard(entry)
  }

  /** Forgets an entry that will not be delivered: its packet id and its stored copy. */
  private discard (entry: Entry): void {
    if (entry.messageId !== 0) this.ids.release(entry.messageId)
    if (entry.stored) this.host.forget(this.client.id, entry.packet)
  }

  /** Puts the entry in the window with its packet id; the caller hands the packet to aedes. */
  private send (entry: Entry): void {
    if (entry.messageId === 0) entry.messageId = this.ids.take()
    const packet = entry.packet
    packet.messageId = entry.messageId
    packet.qos = entry.qos
    packet.dup = entry.dup
    this.host.counters.publishSent++
    this.host.delivered?.(this.client, packet)
    this.window.add(entry, this.clock.now())
  }

  private schedulePump (): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    queueMicrotask(() => { this.pump() })
  }

  /** Sends waiting messages, in order, while the window has room. */
  private pump (): void {
    this.pumpScheduled = false
    if (this.closed || this.loading) return
    const refill = this.flushAfterPump
    this.flushAfterPump = false
    this.pumpAll()
    // a refilled window that is full again: nothing more goes to this client before its next acks
    if (refill && !this.hasRoom()) this.writer.flush()
  }

  private pumpAll (): void {
    const now = this.clock.now()
    for (let entry = this.waiting.peek(); entry !== undefined; entry = this.waiting.peek()) {
      if (entry.qos > 0 && !this.hasRoom()) return
      if (this.writer.notReading()) return
      this.waiting.shift()
      if (hasExpired(entry.packet, now)) {
        this.expire(entry)
        continue
      }
      setRemainingExpiry(entry.packet, now)
      if (entry.qos > 0) {
        this.send(entry)
      } else {
        entry.packet.qos = 0
        this.host.delivered?.(this.client, entry.packet)
        // a stored message now delivered at QoS 0 gets no PUBACK to remove it
        if (entry.stored) this.host.forget(this.client.id, entry.packet)
      }
      this.inject(entry)
    }
  }

  /** Writes the entry to the connection here (see writer.ts); false when aedes must send it. */
  private writeDirect (entry: Entry): boolean {
    if (entry.qos > 0) return (entry.direct = this.writer.qos(entry.packet, entry.qos, entry.messageId, entry.dup))
    return this.writer.qos0(entry.packet, -1) === 'written'
  }

  private inject (entry: Entry): void {
    if (this.writeDirect(entry)) return
    this.writer.throughAedes(entry.packet, entry.qos)
  }

  private resend (entry: Entry): void {
    if (this.closed) return
    this.host.counters.retried++
    if (entry.released) this.writer.pubrel(entry.messageId)
    else this.writer.publishAgain(entry.packet, entry.qos, entry.messageId)
  }

  /** What loading the stored queue does to this session (see resume.ts). */
  private resuming (): ResumingSession {
    return {
      release: (messageId, now) => { this.resumeRelease(messageId, now) },
      entry: packet => {
        if (this.client.version === 5) this.addSubscriptionIds(packet)
        return this.entry(packet, this.qosFor(packet))
      },
      expire: entry => { this.expire(entry) },
      exceedsMaximum: (packet, qos) => this.exceedsMaximum(packet, qos),
      discard: entry => { this.discard(entry) },
      reserve: messageId => this.ids.reserve(messageId)
    }
  }

  /** A PUBREL stored by the previous connection: QoS 2 is half done; send it again. */
  private resumeRelease (messageId: number, now: number): void {
    if (!this.ids.reserve(messageId)) return
    const entry: Entry = {
      packet: { topic: '', payload: Buffer.alloc(0), qos: 2, retain: false },
      qos: 2,
      stored: true,
      messageId,
      dup: true,
      sentAt: now,
      released: true,
      direct: false
    }
    this.window.add(entry, now)
    this.resend(entry)
  }

  /**
   * aedes emits a QoS 1/2 message after storing it, so one stored before the
   * stored queue was read may still arrive live afterwards: skip those copies.
   */
  private rememberRecent (keys: Set<string>): void {
    if (keys.size === 0) return
    this.recent = keys
    this.recentTimer = this.clock.setTimer(RECENT_MS, () => { this.recent = undefined })
  }
}
