// Which endpoints are registered for which hook, in the order they are asked:
// configured ones by name, then `vmq-admin webhooks register` ones as they come.
import type { HookName, WebhookSpec } from '../../config/webhooks.js'

export class RegistryError extends Error {}

export class WebhookRegistry {
  private readonly byHook = new Map<HookName, WebhookSpec[]>()
  /** some on_* hook has an endpoint (asked for every message, so kept rather than computed) */
  notifies = false

  register (spec: WebhookSpec): void {
    const list = this.byHook.get(spec.hook) ?? []
    if (list.some(s => s.endpoint === spec.endpoint)) throw new RegistryError('already_registered')
    this.byHook.set(spec.hook, [...list, spec])
    this.notifies = [...this.byHook.keys()].some(h => h.startsWith('on_'))
  }

  deregister (hook: HookName, endpoint: string): void {
    const list = this.byHook.get(hook) ?? []
    if (!list.some(s => s.endpoint === endpoint)) throw new RegistryError('not_found')
    const rest = list.filter(s => s.endpoint !== endpoint)
    if (rest.length === 0) this.byHook.delete(hook)
    else this.byHook.set(hook, rest)
    this.notifies = [...this.byHook.keys()].some(h => h.startsWith('on_'))
  }

  endpoints (hook: HookName): readonly WebhookSpec[] {
    return this.byHook.get(hook) ?? []
  }

  has (hook: HookName): boolean {
    return this.byHook.has(hook)
  }

  /** Every registration, by hook name, then in the order asked. */
  all (): WebhookSpec[] {
    return [...this.byHook.keys()].sort().flatMap(hook => this.byHook.get(hook) ?? [])
  }
}
