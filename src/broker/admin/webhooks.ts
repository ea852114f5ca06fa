// `vmq-admin webhooks ...` on the node: the registrations of the running
// vmq_webhooks plugin and its answer cache.
import { DEFAULT_RESPONSE_TIMEOUT, endpointProblem, isHookName, WEBHOOK_HOOKS } from '../../config/webhooks.js'
import { InvalidRequest } from '../../errors.js'
import type { AdminHandlers } from '../../rpc/generated/vmq/Admin.js'
import { unary } from '../../rpc/server.js'
import { toTable } from '../../rpc/table.js'
import type { Plugins } from '../plugins.js'
import type { WebhooksPlugin } from '../webhooks/plugin.js'
import { RegistryError } from '../webhooks/registry.js'

type Handlers = Pick<AdminHandlers, 'WebhooksShow' | 'WebhooksRegister' | 'WebhooksDeregister' | 'WebhooksCacheShow' | 'WebhooksCacheClear'>

const DONE = { text: 'Done' }

export function webhooksAdmin (plugins: Plugins): Handlers {
  const running = (): WebhooksPlugin => {
    const plugin = plugins.webhooksPlugin()
    if (plugin === undefined) throw new InvalidRequest('vmq_webhooks is not enabled (plugins.vmq_webhooks = on, or vmq-admin plugin enable -n vmq_webhooks)')
    return plugin
  }
  return {
    WebhooksShow: unary(async () => toTable(['hook', 'endpoint', 'base64payload', 'response_timeout'], running().registry.all().map(s => ({
      hook: s.hook, endpoint: s.endpoint, base64payload: s.base64Payload, response_timeout: s.responseTimeout
    })))),

    WebhooksRegister: unary(async req => {
      const plugin = running()
      const hook = checkedHook(req.hook)
      const problem = endpointProblem(req.endpoint)
      if (problem !== undefined) throw new InvalidRequest(problem)
      try {
        plugin.registry.register({ hook, endpoint: req.endpoint, base64Payload: req.base64Payload, noPayload: req.noPayload, responseTimeout: req.responseTimeout || DEFAULT_RESPONSE_TIMEOUT })
      } catch (err) {
        if (err instanceof RegistryError) throw new InvalidRequest(`can't register endpoint due to '${err.message}'`)
        throw err
      }
      return DONE
    }),

    WebhooksDeregister: unary(async req => {
      const plugin = running()
      const hook = checkedHook(req.hook)
      try {
        plugin.registry.deregister(hook, req.endpoint)
      } catch (err) {
        if (err instanceof RegistryError) throw new InvalidRequest(`can't deregister endpoint due to '${err.message}'`)
        throw err
      }
      return DONE
    }),

    WebhooksCacheShow: unary(async ({ reset }) => {
      const plugin = running()
      if (reset) {
        plugin.cache.resetStats()
        return toTable(['stat', 'endpoint', 'hook', 'value'], [])
      }
      return toTable(['stat', 'endpoint', 'hook', 'value'], plugin.cache.rows().sort(byColumns))
    }),

    WebhooksCacheClear: unary(async () => {
      running().cache.clear()
      return DONE
    })
  }
}

function checkedHook (hook: string): typeof WEBHOOK_HOOKS[number] {
  if (!isHookName(hook)) throw new InvalidRequest(`Invalid value "${hook}" for hook: expected one of ${WEBHOOK_HOOKS.join(', ')}`)
  return hook
}

function byColumns (a: { stat: string, endpoint: string, hook: string }, b: { stat: string, endpoint: string, hook: string }): number {
  return a.endpoint.localeCompare(b.endpoint) || a.hook.localeCompare(b.hook) || a.stat.localeCompare(b.stat)
}
