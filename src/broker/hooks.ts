// aedes hooks of one mountpoint: the CONNECT, PUBLISH and SUBSCRIBE policies
// (src/broker/policy/) and the delivery layer's say on every delivery.
import type { AedesOptions } from 'aedes'
import type { OutPacket } from './delivery/adapter.js'
import { connectPolicy } from './policy/connect.js'
import { publishPolicy } from './policy/publish.js'
import { subscribePolicy } from './policy/subscribe.js'
import type { HookContext } from './policy/context.js'

export { clientInfo, type HookContext } from './policy/context.js'

type Hooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>

export function brokerHooks (ctx: HookContext): Hooks {
  return {
    ...connectPolicy(ctx),
    authorizePublish: publishPolicy(ctx),
    authorizeSubscribe: subscribePolicy(ctx),
    authorizeForward (client, packet) {
      return ctx.queues.forward(client, packet as unknown as OutPacket) as unknown as typeof packet | null
    }
  }
}
