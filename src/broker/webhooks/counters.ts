// What the webhooks plugin counts, kept by the node (enabling the plugin again
// does not reset it): per hook the calls made, the calls that failed or were
// refused with {"error"}, and the request bytes sent; and the notifications
// dropped because an endpoint was too slow. GET /metrics shows them under
// VerneMQ's names (webhooks_<hook>_requests, _errors, _bytes_sent).
import { WEBHOOK_HOOKS, type HookName } from '../../config/webhooks.js'

export interface HookCounts { requests: number, errors: number, bytesSent: number }

export class WebhookCounters {
  readonly byHook = new Map<HookName, HookCounts>(WEBHOOK_HOOKS.map(h => [h, { requests: 0, errors: 0, bytesSent: 0 }]))
  notificationsDropped = 0

  of (hook: HookName): HookCounts {
    return this.byHook.get(hook) as HookCounts
  }
}
