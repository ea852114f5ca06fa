// PUBLISH policy: max_message_rate, max_message_size, `$` topics, waiting for the members'
// subscription tables, the netsplit rule, the auth chain, and what must be
// durable before aedes acknowledges (journal, retained on every member).
import type { AedesOptions, Client } from 'aedes'
import { getMeta } from '../client-meta.js'
import { acknowledgeSkipped, skipPublish } from '../delivery/adapter.js'
import { clientInfo, inNetsplit, type HookContext } from './context.js'
import { rateOf } from './publish-rate.js'
import { destination, isWill, publishMoved } from './moved-publish.js'
import { accept, acceptance } from './publish-acceptance.js'
import type { PublishDecision } from '../auth/chain.js'
import type { PublishModifiers } from '../auth/types.js'

/** MQTT 5 DISCONNECT reason: packet too large */
const PACKET_TOO_LARGE = 0x95
/** MQTT 5 PUBACK/PUBREC reason: not authorized */
const NOT_AUTHORIZED = 0x87

/**
 * What to do with a PUBLISH before authorization: close an oversized one
 * (VerneMQ closes the connection), refuse a `$` topic to an MQTT 5 client
 * (0x87), acknowledge it and deliver it to nobody for 3.1.1
 * (an unacknowledged QoS 1/2 PUBLISH would hold the client's inflight window
 * forever, MQTT-3.3.4-1), or go on.
 */
export function publishGate (f: { topic: string, payloadSize: number, maxSize: number, version: number }): 'oversize' | 'refuse_dollar' | 'ack_dollar' | 'go_on' {
  if (f.maxSize > 0 && f.payloadSize > f.maxSize) return 'oversize'
  if (f.topic.startsWith('$')) return f.version === 5 ? 'refuse_dollar' : 'ack_dollar'
  return 'go_on'
}

/** QoS 1/2 PUBLISHes that already waited for the peers' subscription tables */
const waitedForTables = new WeakSet<object>()
/** PUBLISHes that already waited for their slot under max_message_rate */
const throttled = new WeakSet<object>()

type PublishHook = Required<AedesOptions>['authorizePublish']

export function publishPolicy (ctx: HookContext): PublishHook {
  const authorizePublish: PublishHook = (client, packet, callback) => {
    const meta = getMeta(client)
    if (client === null || meta === undefined) {
      callback(null)
      return
    }
    if (!throttled.has(packet)) {
      const rate = rateOf(client)
      const now = Date.now()
      const paused = rate.pausedFor(now)
      // a PUBLISH held by a pause comes back here for its rate slot
      if (paused > 0) {
        rate.hold(paused, () => { if (!client.closed) authorizePublish(client, packet, callback) })
        return
      }
      const wait = rate.delay(meta.maxMessageRate ?? ctx.settings.number('max_message_rate'), now)
      if (wait > 0) {
        throttled.add(packet)
        rate.hold(wait, () => { if (!client.closed) authorizePublish(client, packet, callback) })
        return
      }
    }
    // counted once: a QoS 1/2 PUBLISH comes back here after waiting for the peers' tables
    if (!waitedForTables.has(packet)) {
      if (client.version === 5) ctx.counters.publishReceived5++
      else ctx.counters.publishReceived4++
    }
    const maxSize = meta.maxMessageSize ?? ctx.settings.number('max_message_size')
    const gate = publishGate({ topic: packet.topic, payloadSize: packet.payload.length, maxSize, version: client.version })
    if (gate === 'oversize') {
      refuseOversize(ctx, client, packet.payload.length, maxSize)
      callback(new Error('message too large'))
      return
    }
    if (gate === 'refuse_dollar') {
      // 0x87 without a Reason String: some clients (the Eclipse Paho test
      // client) refuse a PUBACK that carries properties; the log says why
      ctx.log.debug({ client: client.id, topic: packet.topic }, 'PUBLISH to a $ topic refused (0x87): $ topics are the broker\'s')
      skipPublish(packet)
      acknowledgeSkipped(client, packet, NOT_AUTHORIZED)
      callback(null)
      return
    }
    if (gate === 'ack_dollar') {
      skipPublish(packet)
      acknowledgeSkipped(client, packet)
      callback(null)
      return
    }
    if (packet.qos > 0 && !waitedForTables.has(packet) && ctx.cluster.tablesPending()) {
      waitedForTables.add(packet)
      afterPeerTables(ctx, client, packet, () => { authorizePublish(client, packet, callback) }, callback)
      return
    }
    if (inNetsplit(ctx) && !(meta.allowPublish ?? ctx.settings.flag('allow_publish_during_netsplit'))) {
      if (isWill(packet)) {
        // as VerneMQ: a will is a PUBLISH like the others; aedes drops it on this error
        ctx.log.warn({ client: client.id, topic: packet.topic }, 'will not published: a cluster member is unreachable and allow_publish_during_netsplit is off')
        callback(new Error('will not published during a netsplit'))
        return
      }
      // Not accepted, so not acknowledged: the client keeps it and sends it again
      skipPublish(packet)
      callback(null)
      return
    }
    const decision = ctx.chain.publish(clientInfo(client), {
      topic: packet.topic, qos: packet.qos, retain: packet.retain, payloadSize: packet.payload.length, payload: toBuffer(packet.payload),
      properties: packet.properties as Record<string, unknown> | undefined
    })
    const decided = (d: PublishDecision): void => {
      if (!d.allowed) {
        ctx.log.info({ client: client.id, topic: packet.topic }, "can't auth publish: not authorized")
        if (deniedQuietly(ctx, meta)) {
          skipPublish(packet)
          acknowledgeSkipped(client, packet)
          callback(null)
          return
        }
        callback(new Error('publish not authorized'))
        return
      }
      if (d.modifiers !== undefined) modify(packet, d.modifiers)
      // VerneMQ's throttle: this PUBLISH goes on, the client's next ones wait
      if (d.modifiers?.throttle !== undefined) rateOf(client).pause(d.modifiers.throttle, Date.now())
      const moved = destination({ qos: packet.qos, mountpoint: meta.mountpoint }, d.modifiers)
      if (moved !== undefined) publishMoved(ctx, client, packet, moved, callback)
      else afterAuthorization(ctx, client, meta.mountpoint, packet, callback)
    }
    if (!(decision instanceof Promise)) {
      decided(decision)
      return
    }
    decision.then(decided, (err: Error) => {
      ctx.log.error({ client: client.id, topic: packet.topic, err: err.message }, "can't auth publish: a plugin failed")
      callback(new Error('publish not authorized'))
    })
  }
  return authorizePublish
}

type PublishPacket = Parameters<PublishHook>[1]

/**
 * As VerneMQ: a denied PUBLISH closes an MQTT 3.1.1 connection (MQTT 5 gets
 * 0x87 from aedes), while MQTT 3.1 clients and bridges (protocol level with
 * the bridge bit) have it acknowledged and dropped, unless
 * disconnect_on_unauthorized_publish_v3 is on.
 */
function deniedQuietly (ctx: HookContext, meta: { protocolVersion: number, bridge?: boolean }): boolean {
  if (meta.protocolVersion !== 3 && meta.bridge !== true) return false
  return !ctx.settings.flag('disconnect_on_unauthorized_publish_v3')
}

/** What an authorization plugin rewrote in place (webhooks' topic, payload, retain and properties modifiers; qos and mountpoint move it, see moved-publish.ts). */
function modify (packet: PublishPacket, m: PublishModifiers): void {
  if (m.topic !== undefined) packet.topic = m.topic
  if (m.payload !== undefined) packet.payload = m.payload
  if (m.retain !== undefined) packet.retain = m.retain
  if (m.properties !== undefined) packet.properties = m.properties as PublishPacket['properties']
}

function toBuffer (payload: Buffer | string): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
}

/** aedes sends PUBACK before it routes the message: kept until the members have it. */
function afterAuthorization (ctx: HookContext, client: Client, mountpoint: string, packet: PublishPacket, callback: (err: Error | null) => void): void {
  const hasPeers = ctx.cluster.hasPeers()
  const plan = acceptance({
    qos: packet.qos,
    retain: packet.retain,
    hasPeers,
    routesToPeers: packet.qos === 1 && hasPeers && ctx.cluster.routesTo(mountpoint, packet.topic),
    persistentSubscribers: packet.qos > 0 && ctx.store.hasPersistentSubscribers(packet.topic)
  })
  if (!plan.journal && !plan.replicate) {
    callback(null)
    return
  }
  accept(ctx, ctx.store, mountpoint, packet, plan).then(() => { callback(null) }, (err: Error) => {
    ctx.log.error({ client: client.id, topic: packet.topic, err: err.message }, 'cannot store an accepted message')
    callback(err)
  })
}

/**
 * A member may have subscribers we do not know of yet (this node just started
 * or it just joined): a QoS 1/2 PUBLISH acknowledged now could miss them, so it
 * waits for their tables (remote_enqueue_timeout). When they do not come, the
 * netsplit rule decides (allow_publish_during_netsplit).
 */
function afterPeerTables (ctx: HookContext, client: Client, packet: { qos: number, topic: string }, proceed: () => void, callback: (err: Error | null) => void): void {
  ctx.cluster.awaitTables(ctx.settings.number('remote_enqueue_timeout')).then(known => {
    if (known || (getMeta(client)?.allowPublish ?? ctx.settings.flag('allow_publish_during_netsplit'))) {
      proceed()
      return
    }
    ctx.log.warn({ client: client.id, topic: packet.topic }, 'PUBLISH not accepted: the subscriptions of a cluster member did not arrive in time (allow_publish_during_netsplit = off)')
    skipPublish(packet)
    callback(null)
  }, (err: Error) => { callback(err) })
}

/** VerneMQ closes the connection of a client publishing more than max_message_size. */
function refuseOversize (ctx: HookContext, client: Client, size: number, max: number): void {
  ctx.counters.oversizeRefused++
  ctx.log.info({ client: client.id, size, max }, 'PUBLISH refused: payload larger than max_message_size; closing the connection')
  if (client.version === 5) client.disconnect({ reasonCode: PACKET_TOO_LARGE })
  else client.close()
}
