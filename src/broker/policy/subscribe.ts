// SUBSCRIBE policy: the netsplit rule, well-formed shared filters, the auth
// chain (a SUBSCRIBE is refused as a whole), max_subscriptions_per_client, and
// the members learning the filter before the SUBACK.
import type { AedesOptions } from 'aedes'
import { getMeta } from '../client-meta.js'
import { isShared, parseShare } from '../../mqtt/topic.js'
import { subscribePacketOf } from '../subscribe-packets.js'
import type { SubscribeDecision } from '../auth/chain.js'
import type { ClientInfo } from '../auth/types.js'
import { answerQuotaExceeded, answerRefusal, grantSubscription } from '../subscription-limit.js'
import { clientInfo, inNetsplit, type HookContext } from './context.js'

/**
 * What a plugin's topics answer a filter with: QoS 128. VerneMQ sends the QoS
 * a plugin gives as the SUBACK code, so an MQTT 5 client gets 0x80
 * (Unspecified error) there, and 0x87 when the whole SUBSCRIBE is refused.
 */
const REFUSED_BY_TOPICS = 0x80

/** A `$share/` filter without a group, with a wildcard in the group, or without a filter. */
export function invalidShare (filter: string): boolean {
  return isShared(filter) && parseShare(filter) === undefined
}

type SubscribeHook = Required<AedesOptions>['authorizeSubscribe']

export function subscribePolicy (ctx: HookContext): SubscribeHook {
  return (client, sub, callback) => {
    if (inNetsplit(ctx) && !(getMeta(client)?.allowSubscribe ?? ctx.settings.flag('allow_subscribe_during_netsplit'))) {
      callback(null, null)
      return
    }
    if (invalidShare(sub.topic)) {
      ctx.log.info({ client: client.id, topic: sub.topic }, 'invalid shared subscription: expected $share/<group>/<filter>, no wildcard in the group')
      callback(null, null)
      return
    }
    const decision = packetDecision(ctx, clientInfo(client), sub)
    const decided = (d: SubscribeDecision): void => {
      const granted = d.allowed ? rewritten(sub, d) : null
      if (granted === null) {
        ctx.log.info({ client: client.id, topic: sub.topic }, d.allowed ? "can't auth subscribe: refused by a plugin's topics" : "can't auth subscribe: not authorized (a SUBSCRIBE is refused as a whole)")
        if (d.allowed && givenQos(sub, d) === REFUSED_BY_TOPICS) answerRefusal(client, sub, REFUSED_BY_TOPICS)
        callback(null, null)
        return
      }
      afterAuthorization(ctx, client, granted, callback)
    }
    if (decision instanceof Promise) {
      decision.then(decided, (err: Error) => {
        ctx.log.error({ client: client.id, topic: sub.topic, err: err.message }, "can't auth subscribe: a plugin failed")
        callback(null, null)
      })
      return
    }
    decided(decision)
  }
}

type Sub = Parameters<SubscribeHook>[1]

function afterAuthorization (ctx: HookContext, client: Parameters<SubscribeHook>[0], sub: Sub, callback: Parameters<SubscribeHook>[2]): void {
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
}

const decisions = new WeakMap<object, SubscribeDecision | Promise<SubscribeDecision>>()

/**
 * The chain's decision for the SUBSCRIBE `sub` came in, asked once per packet
 * (aedes asks for each filter; a webhook is called once with all of them).
 */
function packetDecision (ctx: HookContext, info: ClientInfo, sub: Sub): SubscribeDecision | Promise<SubscribeDecision> {
  const packet = subscribePacketOf(sub)
  const subs = (packet?.subscriptions ?? [sub]) as Array<{ topic: string, qos: number }>
  const key = packet ?? sub
  let decision = decisions.get(key)
  if (decision === undefined) {
    decision = ctx.chain.subscribePacket(info, subs.map(s => ({ topic: s.topic, qos: s.qos as 0 | 1 | 2 })))
    decisions.set(key, decision)
  }
  return decision
}

type PluginTopic = NonNullable<SubscribeDecision['topics']>[number]

/**
 * What a plugin's topics (in the order of the packet's filters) give the
 * filter `sub`; undefined when the list does not line up with the packet.
 */
function pluginTopic (sub: Sub, topics: readonly PluginTopic[]): PluginTopic | undefined {
  const subs = (subscribePacketOf(sub)?.subscriptions ?? [sub]) as object[]
  const index = subs.indexOf(sub)
  return index < 0 || topics.length !== subs.length ? undefined : topics[index]
}

/** The QoS a plugin's topics give the filter `sub`, if they name it. */
function givenQos (sub: Sub, d: SubscribeDecision): number | undefined {
  return d.topics === undefined ? undefined : pluginTopic(sub, d.topics)?.qos
}

/**
 * The filter as a plugin rewrote it, or null when the plugin refused it (qos
 * 128 or more) or its topics do not line up with the packet.
 */
function rewritten (sub: Sub, d: SubscribeDecision): Sub | null {
  if (d.topics === undefined) return sub
  const given = pluginTopic(sub, d.topics)
  if (given === undefined) return null
  if (given.qos < 0 || given.qos > 2 || invalidShare(given.topic) || given.topic === '') return null
  sub.topic = given.topic
  sub.qos = given.qos as Sub['qos']
  return sub
}
