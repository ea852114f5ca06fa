// aedes' `mq` for one mountpoint: the local emitter, plus the cluster. It counts
// local subscriptions (aedes registers one listener per subscription) so the
// node can advertise its filters, and hands every publish that originated on
// this node to the cluster, which sends it once to each peer with a match.
// Packets that came from a peer carry the peer's broker id and are delivered
// locally only.
import mqemitter, { type MQEmitter } from 'mqemitter'
import type { LocalInterest } from './interest.js'

type Listener = (message: mqemitter.Message, done: () => void) => void

export interface RoutedPacket {
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  brokerId: string
  brokerCounter: number
}

/** Topics aedes uses between its own instances; never routed between nodes. */
export function isInternalTopic (topic: string): boolean {
  return topic.startsWith('$SYS/')
}

export class ClusterMq {
  private readonly inner: MQEmitter

  constructor (
    private readonly localId: string,
    private readonly interest: LocalInterest,
    private readonly forward: (packet: RoutedPacket) => void,
    concurrency = 100
  ) {
    this.inner = mqemitter({ concurrency, matchEmptyLevels: true })
  }

  get current (): number { return this.inner.current }

  on (topic: string, listener: Listener, done?: () => void): this {
    this.inner.on(topic, listener, done)
    if (!isInternalTopic(topic)) this.interest.add(topic)
    return this
  }

  removeListener (topic: string, listener: Listener, done?: () => void): void {
    this.inner.removeListener(topic, listener, done)
    if (!isInternalTopic(topic)) this.interest.remove(topic)
  }

  emit (message: mqemitter.Message, callback?: (error?: Error) => void): void {
    this.inner.emit(message, callback)
    const packet = message as unknown as RoutedPacket
    if (packet.brokerId === this.localId && !isInternalTopic(packet.topic)) this.forward(packet)
  }

  close (callback: () => void): void {
    this.inner.close(callback)
  }
}
