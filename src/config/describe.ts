import { findKey, findListenerOption, findPatternKey, PLAIN_LISTENER_OPTIONS } from './schema.js'
import { describeType, formatValue } from './values.js'

/** One row of `describe`: a plain key, or a listener option written `listener.<opt>`. */
export function describeKey (key: string): Record<string, string | boolean> | undefined {
  const def = findKey(key) ??
    (key.startsWith('listener.') || PLAIN_LISTENER_OPTIONS.includes(key) ? findListenerOption(key.split('.').pop() ?? '') : undefined) ??
    findPatternKey(key)
  if (def === undefined) return undefined
  const unit = def.unit === undefined ? '' : ` (${def.unit})`
  const notYet = def.applied === false ? ' No effect in vmq-ts yet: the value is accepted and not used.' : ''
  return {
    key,
    description: def.doc + notYet,
    type: describeType(def.type) + unit,
    default: formatValue(def.type, def.default),
    settable: def.settable === true
  }
}
