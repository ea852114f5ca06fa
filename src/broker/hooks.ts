// aedes hooks: the CONNECT checks VerneMQ makes (protocol version per listener,
// client id size, anonymous access, the auth chain), authorization of every
// PUBLISH and SUBSCRIBE with the size and subscription limits, and the queue
// layer's say on every delivery (authorizeForward).
import type { AedesOptions, AuthenticateError, Client } from 'aedes'
import type { Settings } from '../config/settings.js'
import type { AuthChain } from './auth/chain.js'
import type { ClientInfo, RefuseCode } from './auth/types.js'
import { getMeta } from './client-meta.js'
import type { Logger } from './log.js'
import type { Cluster } from '../cluster/cluster.js'
import type { Instance } from './node.js'
import { adopt } from './sessions.js'
import { isShared, parseShare } from '../mqtt/topic.js'
import type { PublishProperties } from '../cluster/properties.js'
import { wholePacketPasses } from './subscribe-packets.js'
import type { BrokerCounters } from './counters.js'
import type { Queues } from './delivery/queues.js'
import { acknowledgeSkipped, skipPublish, type OutPacket } from './delivery/adapter.js'
import { isExtraSession, publicClientId, SESSION_SEPARATOR } from './delivery/groups.js'
import { answerQuotaExceeded, grantSubscription } from './subscription-limit.js'

export interface HookContext {
  settings: Settings
  chain: AuthChain
  log: Logger
  cluster: Cluster
  instance: (mountpoint: string) => Promise<Instance>
  /** the durable store of this aedes instance (journal of accepted messages) */
  store: { hasPersistentSubscribers: (topic: string) => boolean, journal: (packet: { topic: string, payload: Buffer, qos: number, retain: boolean, properties?: PublishProperties }, held?: boolean) => Promise<void>, writeFailure: () => string | undefined }
  counters: BrokerCounters
  /** the delivery layer of the mountpoint these hooks serve */
  queues: Queues
}

type Hooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>

/** MQTT 5 DISCONNECT reason: packet too large */
const PACKET_TOO_LARGE = 0x95

/** QoS 1/2 PUBLISHes that already waited for the peers' subscription tables */
const waitedForTables = new WeakSet<object>()

export function brokerHooks (ctx: HookContext): Hooks {
  const hooks: Hooks = {
    preConnect (client, packet, callback) {
      const meta = getMeta(client)
      if (meta !== undefined) {
        meta.connectArrived?.()
        meta.sentClientIdLength = packet.clientId.length
        meta.clientIdInvalid = packet.clientId.includes(SESSION_SEPARATOR)
        meta.protocolVersion = packet.protocolVersion ?? 4
        meta.username = meta.preauthUsername ?? packet.username
        meta.clean = packet.clean !== false
      }
      if (meta?.clientIdInvalid !== true) ctx.queues.connecting(client, packet)
      callback(null, true)
    },

    authenticate (client, username, password, done) {
      checkConnect(ctx, client, password).then(
        refusal => {
          if (refusal === undefined) done(null, true)
          else done(refuse(refusal.code, refusal.reason), false)
        },
        (err: Error) => {
          ctx.log.error({ client: client.id, err: err.message }, 'authentication failed with an internal error')
          done(refuse(3, 'server_unavailable'), false)
        })
    },

    authorizePublish (client, packet, callback) {
      const meta = getMeta(client)
      if (client === null || meta === undefined) {
        callback(null)
        return
      }
      // counted once: a QoS 1/2 PUBLISH comes back here after waiting for the peers' tables
      if (!waitedForTables.has(packet)) {
        if (client.version === 5) ctx.counters.publishReceived5++
        else ctx.counters.publishReceived4++
      }
      const maxSize = ctx.settings.number('max_message_size')
      if (maxSize > 0 && packet.payload.length > maxSize) {
        refuseOversize(ctx, client, packet.payload.length, maxSize)
        callback(new Error('message too large'))
        return
      }
      if (packet.topic.startsWith('$')) {
        // Delivered to nobody, but acknowledged: an unacknowledged QoS 1/2
        // PUBLISH would hold the client's inflight window forever (MQTT-3.3.4-1).
        // MQTT 5 gets reason 0x87 from aedes for the error.
        if (client.version === 5) {
          callback(new Error('publishing to $ topics is not allowed'))
          return
        }
        skipPublish(packet)
        acknowledgeSkipped(client, packet)
        callback(null)
        return
      }
      if (packet.qos > 0 && !waitedForTables.has(packet) && ctx.cluster.tablesPending()) {
        waitedForTables.add(packet)
        afterPeerTables(ctx, client, packet, () => { hooks.authorizePublish(client, packet, callback) }, callback)
        return
      }
      if (inNetsplit(ctx) && !ctx.settings.flag('allow_publish_during_netsplit')) {
        // Not accepted, so not acknowledged: the client keeps it and sends it again
        skipPublish(packet)
        callback(null)
        return
      }
      const allowed = ctx.chain.publish(clientInfo(client), {
        topic: packet.topic, qos: packet.qos, retain: packet.retain, payloadSize: packet.payload.length
      })
      if (!allowed) {
        ctx.log.info({ client: client.id, topic: packet.topic }, "can't auth publish: not authorized")
        callback(new Error('publish not authorized'))
        return
      }
      // aedes sends PUBACK before it routes the message: kept until the members have it
      const routed = packet.qos === 1 && ctx.cluster.hasPeers() && ctx.cluster.routesTo(meta.mountpoint, packet.topic)
      const journal = routed || (packet.qos > 0 && ctx.store.hasPersistentSubscribers(packet.topic))
      if (!journal && (!packet.retain || !ctx.cluster.hasPeers())) {
        callback(null)
        return
      }
      accept(ctx, meta.mountpoint, packet, journal, routed).then(() => { callback(null) }, (err: Error) => {
        ctx.log.error({ client: client.id, topic: packet.topic, err: err.message }, 'cannot store an accepted message')
        callback(err)
      })
    },

    authorizeSubscribe (client, sub, callback) {
      if (inNetsplit(ctx) && !ctx.settings.flag('allow_subscribe_during_netsplit')) {
        callback(null, null)
        return
      }
      if (isShared(sub.topic) && parseShare(sub.topic) === undefined) {
        ctx.log.info({ client: client.id, topic: sub.topic }, 'invalid shared subscription: expected $share/<group>/<filter>, no wildcard in the group')
        callback(null, null)
        return
      }
      const info = clientInfo(client)
      const allowed = wholePacketPasses(sub, s => ctx.chain.subscribe(info, { topic: s.topic, qos: s.qos as 0 | 1 | 2 }))
      if (!allowed) {
        ctx.log.info({ client: client.id, topic: sub.topic }, "can't auth subscribe: not authorized (a SUBSCRIBE is refused as a whole)")
        callback(null, null)
        return
      }
      const maxSubscriptions = ctx.settings.number('max_subscriptions_per_client')
      if (!grantSubscription(client, sub.topic, maxSubscriptions)) {
        ctx.log.info({ client: client.id, topic: sub.topic, max: maxSubscriptions }, "can't subscribe: max_subscriptions_per_client reached")
        answerQuotaExceeded(client, sub)
        callback(null, null)
        return
      }
      ctx.queues.subscriptionsChanged(client)
      if (!ctx.cluster.hasPeers()) {
        callback(null, sub)
        return
      }
      // Peers learn the filter before the SUBACK, so publishes after it reach us.
      ctx.cluster.announce(getMeta(client)?.mountpoint ?? '', sub.topic).then(() => { callback(null, sub) }, () => { callback(null, sub) })
    },

    authorizeForward (client, packet) {
      return ctx.queues.forward(client, packet as unknown as OutPacket) as unknown as typeof packet | null
    }
  }
  return hooks
}

/**
 * A member may have subscribers we do not know of yet (this node just started
 * or it just joined): a QoS 1/2 PUBLISH acknowledged now could miss them, so it
 * waits for their tables (remote_enqueue_timeout). When they do not come, the
 * netsplit rule decides (allow_publish_during_netsplit).
 */
function afterPeerTables (ctx: HookContext, client: Client, packet: { qos: number, topic: string }, proceed: () => void, callback: (err: Error | null) => void): void {
  ctx.cluster.awaitTables(ctx.settings.number('remote_enqueue_timeout')).then(known => {
    if (known || ctx.settings.flag('allow_publish_during_netsplit')) {
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

async function checkConnect (ctx: HookContext, client: Client, password: Buffer | undefined): Promise<{ code: RefuseCode | 1, reason: string } | undefined> {
  const meta = getMeta(client)
  if (meta === undefined) return { code: 3, reason: 'unknown listener' }
  const versions = String(meta.listener.config.options.get('allowed_protocol_versions')).split(',')
  if (!versions.includes(String(meta.protocolVersion))) return { code: 1, reason: 'unsupported_protocol_version' }
  if (meta.sentClientIdLength > ctx.settings.number('max_client_id_size')) return { code: 2, reason: 'client_identifier_not_valid' }
  // MQTT 3.1 has no broker-assigned ids; U+0000 is not allowed in MQTT strings (and marks our internal ids)
  if (meta.clientIdInvalid || (meta.protocolVersion === 3 && meta.sentClientIdLength === 0)) return { code: 2, reason: 'client_identifier_not_valid' }
  // use_identity_as_username: the certificate CN is the username and no auth plugin is asked
  const anonymous = ctx.settings.flag('allow_anonymous') || meta.listener.config.options.get('allow_anonymous_override') === true
  if (!anonymous && meta.preauthUsername === undefined) {
    const verdict = await ctx.chain.register(clientInfo(client), password)
    if (verdict.kind === 'refuse') return { code: verdict.code, reason: verdict.reason }
    if (verdict.kind !== 'ok') return { code: 5, reason: 'not_authorized' }
  }
  const storeFailure = meta.clean ? undefined : ctx.store.writeFailure()
  if (storeFailure !== undefined) {
    ctx.log.warn({ client: client.id }, `persistent session refused: the store takes no writes since one failed (${storeFailure})`)
    return { code: 3, reason: 'server_unavailable' }
  }
  if (inNetsplit(ctx) && !ctx.settings.flag('allow_register_during_netsplit')) {
    ctx.log.warn({ client: client.id }, "can't register client due to not_ready: a cluster member is unreachable")
    return { code: 3, reason: 'not_ready' }
  }
  await takeOverElsewhere(ctx, client.id, meta.mountpoint, meta.clean)
  return undefined
}

/**
 * What must happen before aedes acknowledges an authorized PUBLISH: a QoS 1/2
 * message for persistent sessions, or a QoS 1 message for cluster members
 * (kept until they confirm it), is journaled on disk, and a retained message
 * is stored on every reachable cluster member (QoS 0 does not wait for them).
 */
async function accept (ctx: HookContext, mountpoint: string, packet: { topic: string, payload: Buffer | string, qos: number, retain: boolean, properties?: PublishProperties }, journal: boolean, routed: boolean): Promise<void> {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
  if (journal) {
    await ctx.store.journal({ topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, properties: packet.properties }, routed)
  }
  if (!packet.retain || !ctx.cluster.hasPeers()) return
  const replicated = ctx.cluster.replicateRetain(mountpoint, packet.topic, payload, packet.qos, packet.properties)
  if (packet.qos > 0) await replicated
}

function inNetsplit (ctx: HookContext): boolean {
  return ctx.cluster.hasPeers() && !ctx.cluster.ready()
}

/** The same client id on another node is disconnected; its session moves here unless this one is clean. */
async function takeOverElsewhere (ctx: HookContext, clientId: string, mountpoint: string, clean: boolean): Promise<void> {
  if (!ctx.cluster.hasPeers() || isExtraSession(clientId)) return
  const handovers = await ctx.cluster.takeover(mountpoint, clientId, clean)
  if (clean || handovers.length === 0) return
  const { broker, persistence } = await ctx.instance(mountpoint)
  await adopt(broker, persistence, clientId, handovers)
  ctx.log.debug({ clientId, mountpoint, messages: handovers.reduce((n, h) => n + h.messages.length, 0) }, 'session taken over from another node')
}

export function clientInfo (client: Client): ClientInfo {
  const meta = getMeta(client)
  return { clientId: publicClientId(client.id), username: meta?.username, mountpoint: meta?.mountpoint ?? '', connection: client }
}

function refuse (code: number, reason: string): AuthenticateError {
  const err = new Error(reason) as AuthenticateError
  err.returnCode = code as AuthenticateError['returnCode']
  return err
}
