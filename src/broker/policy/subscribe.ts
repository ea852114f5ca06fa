// SUBSCRIBE policy: the netsplit rule, well-formed shared filters, the auth
// chain (a SUBSCRIBE is refused as a whole), max_subscriptions_per_client, and
// the members learning the filter before the SUBACK.
import type { AedesOptions } from 'aedes'
import { getMeta } from '../client-meta.js'
import { isShared, parseShare } from '../../mqtt/topic.js'
import { wholePacketPasses } from '../subscribe-packets.js'
import { answerQuotaExceeded, grantSubscription } from '../subscription-limit.js'
import { clientInfo, inNetsplit, type HookContext } from './context.js'

/** A `$share/` filter without a group, with a wildcard in the group, or without a filter. */
export function invalidShare (filter: string): boolean {
  return isShared(filter) && parseShare(filter) === undefined
}

type SubscribeHook = Required<AedesOptions>['authorizeSubscribe']

export function subscribePolicy (ctx: HookContext): SubscribeHook {
  return (client, sub, callback) => {
    if (inNetsplit(ctx) && !ctx.settings.flag('allow_subscribe_during_netsplit')) {
      callback(null, null)
      return
    }
    if (invalidShare(sub.topic)) {
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
  }
}
