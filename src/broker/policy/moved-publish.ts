// A PUBLISH an authorization plugin moved to another QoS or mountpoint
// (webhooks' qos and mountpoint modifiers). aedes would acknowledge and route
// the client's packet at the QoS it came with, in the mountpoint of its
// connection. Instead a copy at the new QoS is published in the new
// mountpoint's instance, and the client's packet is answered here for the QoS
// it was sent with, as VerneMQ does: a QoS 1 PUBLISH gets its PUBACK whatever
// QoS the message is routed with, a QoS 2 one its PUBREC (and PUBCOMP).
import type { AedesOptions, Client } from 'aedes'
import type { IPublishPacket } from 'mqtt-packet'
import type { PublishModifiers } from '../auth/types.js'
import { acknowledgeSkipped, publishAs, skipPublish } from '../delivery/adapter.js'
import type { HookContext } from './context.js'
import { accept, acceptance } from './publish-acceptance.js'

export interface Destination { qos: 0 | 1 | 2, mountpoint: string }

type Packet = Parameters<NonNullable<AedesOptions['authorizePublish']>>[1]

/** Where the modifiers send the message, or undefined when it stays at its QoS in its mountpoint. */
export function destination (current: Destination, m: PublishModifiers | undefined): Destination | undefined {
  const qos = m?.qos ?? current.qos
  const mountpoint = m?.mountpoint ?? current.mountpoint
  return qos === current.qos && mountpoint === current.mountpoint ? undefined : { qos, mountpoint }
}

export function publishMoved (ctx: HookContext, client: Client, packet: Packet, to: Destination, callback: (err: Error | null) => void): void {
  moved(ctx, client, packet, to).then(() => {
    // a will (no PUBLISH of the wire): aedes publishes it unless this fails
    if (isWill(packet)) {
      callback(new Error('the will was published where the plugin moved it'))
      return
    }
    skipPublish(packet)
    acknowledgeSkipped(client, packet)
    callback(null)
  }, (err: Error) => {
    ctx.log.error({ client: client.id, topic: packet.topic, mountpoint: to.mountpoint, err: err.message }, 'cannot publish a message moved by a plugin')
    callback(err)
  })
}

/** aedes authorizes a client's will as a PUBLISH; it is the CONNECT's will object, without `cmd`. */
export function isWill (packet: Packet): boolean {
  return (packet as { cmd?: string }).cmd !== 'publish'
}

async function moved (ctx: HookContext, client: Client, packet: Packet, to: Destination): Promise<void> {
  // a QoS 2 PUBLISH sent again before its PUBREL was published the first time
  const wire = !isWill(packet)
  if (wire && packet.qos === 2 && await ctx.store.incomingGetPacket(client, packet).then(() => true, () => false)) return
  const target = await ctx.instance(to.mountpoint)
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
  const copy: IPublishPacket = { cmd: 'publish', topic: packet.topic, payload, qos: to.qos, retain: packet.retain, dup: false, properties: packet.properties }
  const hasPeers = ctx.cluster.hasPeers()
  const plan = acceptance({
    qos: to.qos,
    retain: packet.retain,
    hasPeers,
    routesToPeers: to.qos === 1 && hasPeers && ctx.cluster.routesTo(to.mountpoint, packet.topic),
    persistentSubscribers: to.qos > 0 && target.store.hasPersistentSubscribers(packet.topic)
  })
  if (plan.journal || plan.replicate) await accept(ctx, target.store, to.mountpoint, copy, plan)
  if (wire && packet.qos === 2) await ctx.store.incomingStorePacket(client, packet)
  await new Promise<void>((resolve, reject) => {
    publishAs(target.broker, copy, client, err => { if (err != null) reject(err); else resolve() })
  })
}
