// Values vmq-ts accepts the key of but cannot honour: starting anyway would run a
// broker other than the one configured (no database backend, no plugin).
import { pluginNames } from './schema.js'
import type { Value } from './values.js'

const DIVERSITY_BACKEND = /^vmq_diversity\.auth_([a-z0-9]+)\.enabled$/

/** Why `key = value` cannot be run here, or undefined. */
export function refusal (key: string, value: Value): string | undefined {
  if (value !== true) return undefined
  const backend = DIVERSITY_BACKEND.exec(key)?.[1]
  if (backend !== undefined && backend !== 'redis') {
    return `vmq_diversity has no ${backend} backend in vmq-ts; the backends here: redis (vmq_diversity.auth_redis.enabled = on)`
  }
  const plugin = /^plugins\.([^.]+)$/.exec(key)?.[1]
  if (plugin !== undefined && !pluginNames().includes(plugin)) {
    return `there is no plugin ${plugin} in vmq-ts; the plugins here: ${pluginNames().join(', ')}`
  }
  return undefined
}
