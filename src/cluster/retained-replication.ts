// Retained messages across the cluster: a retained publish is stored on every
// reachable member; a member that comes up (again) is asked for all of its
// retained messages. Last writer wins, by a hybrid logical clock timestamp.
import * as grpc from '@grpc/grpc-js'
import { COOKIE_METADATA } from '../rpc/server.js'
import type { Retain } from '../rpc/generated/vmq/Retain.js'
import { HybridClock } from './clock.js'
import type { ClusterHost } from './host.js'
import type { Membership } from './membership.js'
import type { PeerLink } from './peer-link.js'
import { propertiesToWire, type PublishProperties } from './properties.js'

/** How long a member may take to send all of its retained messages, ms. */
const SNAPSHOT_DEADLINE_MS = 30000

export class RetainedReplication {
  /** mountpoint + NUL + topic -> timestamp of the last write known */
  private readonly written = new Map<string, number>()
  private readonly clock = new HybridClock()

  constructor (private readonly host: ClusterHost, private readonly membership: Membership) {}

  /** Stores a retained message on every reachable peer; resolves once all have answered. */
  async replicate (mountpoint: string, topic: string, payload: Buffer, qos: number, properties?: PublishProperties): Promise<void> {
    const timestamp = this.clock.now()
    this.written.set(retainKey(mountpoint, topic), timestamp)
    const message: Retain = { mountpoint, topic, payload, qos, timestamp, properties: propertiesToWire({ properties }, Date.now()) }
    const timeout = this.host.requestTimeout()
    const results = await Promise.allSettled(this.membership.runningPeers().map(async link => await link.request({ retain: message }, timeout)))
    for (const r of results) if (r.status === 'rejected') this.host.log.warn({ topic, err: (r.reason as Error).message }, 'retained message not stored on a member')
  }

  /** A retained message from a peer: stored unless a later write of the topic is known. */
  async accept (message: Retain): Promise<void> {
    const key = retainKey(message.mountpoint ?? '', message.topic ?? '')
    const timestamp = Number(message.timestamp ?? 0)
    this.clock.observe(timestamp)
    if ((this.written.get(key) ?? 0) > timestamp) return
    this.written.set(key, timestamp)
    await this.host.storeRetained(message)
  }

  /** This node's retained messages with the timestamps of their writes, for a member that asks. */
  async local (): Promise<Retain[]> {
    const messages = await this.host.retainedMessages()
    return messages.map(m => ({ ...m, timestamp: this.written.get(retainKey(m.mountpoint ?? '', m.topic ?? '')) ?? 0 }))
  }

  /** Takes the retained messages of a member whose link just came up. */
  async pull (link: PeerLink): Promise<void> {
    const metadata = new grpc.Metadata()
    metadata.set(COOKIE_METADATA, this.host.cookie())
    const stream = link.client_().RetainedSnapshot({}, metadata, { deadline: Date.now() + SNAPSHOT_DEADLINE_MS })
    for await (const message of stream) await this.accept(message as Retain)
  }
}

function retainKey (mountpoint: string, topic: string): string {
  return mountpoint + '\u0000' + topic
}
