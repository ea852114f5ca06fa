// aedes' `mq` for one mountpoint: the local emitter, plus the cluster. It counts
// local subscriptions (aedes registers one listener per subscription) so the
// node can advertise its filters, and hands every publish that originated on
// this node to the cluster, which sends it once to each peer with a match.
// Packets that came from a peer carry the peer's broker id and are delivered
// locally only.
import mqemitter, { type MQEmitter } from 'mqemitter'
import type { LocalInterest } from './interest.js'
import type { MessageExtras } from './properties.js'
import { cacheMatches } from './match-cache.js'
import { SharedGroups } from './shared.js'
import { parseShare } from '../mqtt/topic.js'

type Listener = (message: mqemitter.Message, done: () => void) => void

export interface RoutedPacket extends MessageExtras {
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  brokerId: string
  brokerCounter: number
}

/**
 * Sends a local publish to the peers that need it and decides, for every shared
 * group the topic matches anywhere, which node delivers it; returns the share
 * filters this node delivers, and adds to `confirmations` the peers'
 * confirmations a QoS 1/2 message waits for.
 */
export type Forward = (packet: RoutedPacket, localShares: readonly string[], confirmations: Array<Promise<void>>) => ReadonlySet<string>

/** Shared across publishes: nothing on the hot path allocates when there are no groups. */
const NO_SHARES: readonly string[] = []

export class ClusterMq {
  private readonly inner: MQEmitter
  /**
   * aedes' own listeners ($SYS/+/heartbeat, birth, new/clients), registered
   * while the broker is created, before `sealInternal`. aedes' events under
   * `$SYS/<its id>/` (client ids, other clients' subscriptions) reach only
   * them: no client learns another client's id through $SYS.
   */
  private readonly internal: MQEmitter
  private sealed = false
  private readonly internalPrefix: string
  readonly shared: SharedGroups
  /** filled by forward, emptied at once: no allocation for messages no peer confirms */
  private readonly confirmations: Array<Promise<void>> = []

  constructor (
    private readonly localId: string,
    private readonly interest: LocalInterest,
    private readonly forward: Forward,
    /** a local QoS 1/2 message no longer needs its journal entry: every peer it went to has it */
    private readonly released: (packet: RoutedPacket) => void,
    concurrency = 100
  ) {
    this.inner = mqemitter({ concurrency, matchEmptyLevels: true })
    cacheMatches(this.inner)
    this.internal = mqemitter({ concurrency, matchEmptyLevels: true })
    this.internalPrefix = `$SYS/${localId}/`
    this.shared = new SharedGroups(this.inner)
  }

  get current (): number { return this.inner.current }

  /** Every listener from now on is a client's subscription. */
  sealInternal (): void { this.sealed = true }

  on (topic: string, listener: Listener, done?: () => void): this {
    if (!this.sealed) {
      this.internal.on(topic, listener, done)
      return this
    }
    const share = parseShare(topic)
    if (share !== undefined) {
      if (this.shared.add(topic, share, listener, done)) this.interest.add(topic)
      return this
    }
    this.inner.on(topic, listener, done)
    this.interest.add(topic)
    return this
  }

  removeListener (topic: string, listener: Listener, done?: () => void): void {
    if (!this.sealed) {
      this.internal.removeListener(topic, listener, done)
      return
    }
    if (parseShare(topic) !== undefined) {
      if (this.shared.remove(topic, listener, done)) this.interest.remove(topic)
      return
    }
    this.inner.removeListener(topic, listener, done)
    this.interest.remove(topic)
  }

  emit (message: mqemitter.Message, callback?: (error?: Error) => void): void {
    const packet = message as unknown as RoutedPacket
    // aedes' own, never routed; the rest under $SYS/ ($SYS/<nodename>/... metrics) is routed like any topic
    if (packet.topic.startsWith(this.internalPrefix)) {
      this.internal.emit(message, callback)
      return
    }
    if (packet.brokerId !== this.localId) {
      this.inner.emit(message, callback)
      return
    }
    const mine = this.forward(packet, this.shared.size === 0 ? NO_SHARES : this.shared.shares(), this.confirmations)
    if (this.confirmations.length > 0) callback = this.afterConfirmations(packet, callback)
    else if (packet.qos > 0) this.released(packet)
    if (mine.size === 0) {
      this.inner.emit(message, callback)
      return
    }
    this.deliverShared(`${packet.brokerId}:${packet.brokerCounter}`, mine, message, callback)
  }

  /**
   * A message routed to peers is done (emit calls back) once they have it
   * queued, and then its journal entry goes. aedes sends PUBREC (QoS 2) after
   * that; the PUBACK of QoS 1 goes before routing, so the journal keeps the
   * message until then (see hooks.ts accept).
   */
  private afterConfirmations (packet: RoutedPacket, callback?: (error?: Error) => void): (error?: Error) => void {
    const waits = this.confirmations.splice(0)
    const confirmed = waits.length === 1 ? waits[0] : Promise.all(waits)
    void confirmed.then(() => { this.released(packet) })
    return error => { void confirmed.then(() => callback?.(error)) }
  }

  /** Delivers a message some of whose shared groups this node serves (chosen here or by a peer). */
  deliverShared (key: string, shares: ReadonlySet<string>, message: mqemitter.Message, callback?: (error?: Error) => void): void {
    this.shared.designate(key, shares)
    this.inner.emit(message, err => {
      this.shared.release(key)
      callback?.(err)
    })
  }

  close (callback: () => void): void {
    this.internal.close(() => { this.inner.close(callback) })
  }
}
