// What makes an authorized PUBLISH durable before it is acknowledged: the
// journal and the retained copies on the other members.
import type { PublishProperties } from '../../cluster/properties.js'
import type { HookContext } from './context.js'

/** What accept does for one PUBLISH. */
export interface AcceptancePlan {
  /** made durable before the acknowledgement */
  journal: boolean
  /** routed to members: journaled and held until they confirm it */
  routed: boolean
  /** a retained message stored on the members */
  replicate: boolean
  /** may be written as queued for the local sessions (no members: see LevelPersistence.journal) */
  prequeue: boolean
}

/**
 * What must be done before an authorized PUBLISH is acknowledged: a QoS 1
 * message routed to members is journaled and held until they confirm it; a
 * QoS 1/2 message for persistent sessions is journaled (on a node without
 * members, as queued for them); a retained message is stored on every
 * reachable member (QoS 0 does not wait for that).
 */
export function acceptance (f: { qos: number, retain: boolean, hasPeers: boolean, routesToPeers: boolean, persistentSubscribers: boolean }): AcceptancePlan {
  const routed = f.qos === 1 && f.hasPeers && f.routesToPeers
  const journal = routed || (f.qos > 0 && f.persistentSubscribers)
  return { journal, routed, replicate: f.retain && f.hasPeers, prequeue: !f.hasPeers }
}

/** Makes an authorized message durable as `plan` says, in the store of the mountpoint it is published in. */
export async function accept (ctx: HookContext, store: HookContext['store'], mountpoint: string, packet: { topic: string, payload: Buffer | string, qos: number, retain: boolean, properties?: PublishProperties }, plan: AcceptancePlan): Promise<void> {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
  if (plan.journal) {
    await store.journal({ topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, properties: packet.properties }, plan.routed, plan.prequeue)
  }
  if (!plan.replicate) return
  const replicated = ctx.cluster.replicateRetain(mountpoint, packet.topic, payload, packet.qos, packet.properties)
  if (packet.qos > 0) await replicated
}
