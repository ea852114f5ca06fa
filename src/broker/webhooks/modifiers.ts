// The modifiers of an auth hook's answer, checked as VerneMQ checks them: a
// name VerneMQ does not allow for the hook, or a value of the wrong type,
// fails the whole answer (the client or the PUBLISH is refused). Allowed
// modifiers vmq-ts cannot apply are named so they can be logged as having no
// effect.
import type { HookName } from '../../config/webhooks.js'
import type { ClientOverrides, PublishModifiers } from '../auth/types.js'

export type Checked<T> = { ok: true, value: T, noEffect: string[] } | { ok: false, problem: string }

type Reader<T> = (value: unknown, out: T) => boolean

const int = (v: unknown): number | undefined => typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined

function intInto<T> (set: (out: T, n: number) => void): Reader<T> {
  return (v, out) => {
    const n = int(v)
    if (n === undefined) return false
    set(out, n)
    return true
  }
}

function boolInto<T> (set: (out: T, b: boolean) => void): Reader<T> {
  return (v, out) => {
    if (typeof v !== 'boolean') return false
    set(out, v)
    return true
  }
}

/** Checks the type only: the modifier is allowed but has no effect here. */
const anyOf = (...types: string[]): Reader<unknown> => v => types.includes(Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v)

const PUBLISH: Record<string, Reader<PublishModifiers> | 'no_effect'> = {
  topic: (v, out) => {
    // a topic to publish to: no wildcards, not empty
    if (typeof v !== 'string' || v === '' || /[+#]/.test(v)) return false
    out.topic = v
    return true
  },
  payload: (v, out) => {
    if (!Buffer.isBuffer(v)) return false
    out.payload = v
    return true
  },
  qos: (v, out) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 2)) return false
    out.qos = Math.round(v) as 0 | 1 | 2
    return true
  },
  retain: boolInto((out, b) => { out.retain = b }),
  mountpoint: (v, out) => {
    if (typeof v !== 'string') return false
    out.mountpoint = v
    return true
  },
  // ms during which nothing more is read from the client (after this PUBLISH)
  throttle: intInto((out, n) => { if (n > 0) out.throttle = n })
}

const PUBLISH_M5: typeof PUBLISH = {
  ...PUBLISH,
  properties: (v, out) => {
    const props = publishProperties(v)
    if (props === undefined) return false
    out.properties = props
    return true
  }
}

/**
 * auth_on_publish_m5 `properties`, VerneMQ's names to mqtt-packet's: the ones
 * VerneMQ allows there, user properties as [{key, val}] base64, the payload
 * format utf8 or undefined, correlation data as text. undefined: not valid.
 */
function publishProperties (v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(v)) {
    switch (name) {
      case 'p_user_property': {
        if (!Array.isArray(value)) return undefined
        const user: Record<string, string[]> = {}
        for (const pair of value as unknown[]) {
          const { key, val } = (typeof pair === 'object' && pair !== null ? pair : {}) as { key?: unknown, val?: unknown }
          if (typeof key !== 'string' || typeof val !== 'string') return undefined
          const k = Buffer.from(key, 'base64').toString('utf8')
          ;(user[k] ??= []).push(Buffer.from(val, 'base64').toString('utf8'))
        }
        out.userProperties = Object.fromEntries(Object.entries(user).map(([k, vals]) => [k, vals.length === 1 ? vals[0] : vals]))
        break
      }
      case 'p_message_expiry_interval':
        if (int(value) === undefined || (int(value) as number) < 0) return undefined
        out.messageExpiryInterval = int(value)
        break
      case 'p_content_type':
        if (typeof value !== 'string') return undefined
        out.contentType = value
        break
      case 'p_payload_format_indicator':
        if (value !== 'utf8' && value !== 'undefined') return undefined
        out.payloadFormatIndicator = value === 'utf8'
        break
      case 'p_response_topic':
        if (typeof value !== 'string' || value === '' || /[+#]/.test(value)) return undefined
        out.responseTopic = value
        break
      case 'p_correlation_data':
        if (typeof value !== 'string') return undefined
        out.correlationData = Buffer.from(value, 'utf8')
        break
      case 'p_will_delay_interval':
        // allowed by VerneMQ, meaningless for a PUBLISH
        if (int(value) === undefined) return undefined
        break
      default:
        return undefined
    }
  }
  return out
}

const REGISTER: Record<string, Reader<ClientOverrides> | 'no_effect'> = {
  max_message_size: intInto((out, n) => { out.maxMessageSize = n }),
  max_message_rate: intInto((out, n) => { out.maxMessageRate = n }),
  max_inflight_messages: intInto((out, n) => { out.maxInflightMessages = n }),
  // VerneMQ's modifier is in milliseconds (the setting is in seconds)
  retry_interval: intInto((out, n) => { out.retryIntervalMs = n }),
  upgrade_qos: boolInto((out, b) => { out.upgradeQos = b }),
  max_online_messages: intInto((out, n) => { out.maxOnlineMessages = n }),
  max_offline_messages: intInto((out, n) => { out.maxOfflineMessages = n }),
  username: (v, out) => {
    if (typeof v !== 'string') return false
    out.username = v
    return true
  },
  // this client's allow_*_during_netsplit
  allow_register: boolInto((out, b) => { out.allowRegister = b }),
  allow_publish: boolInto((out, b) => { out.allowPublish = b }),
  allow_subscribe: boolInto((out, b) => { out.allowSubscribe = b }),
  allow_unsubscribe: boolInto((out, b) => { out.allowUnsubscribe = b }),
  max_connection_lifetime: intInto((out, n) => { out.maxConnectionLifetime = n }),
  clean_session: boolInto((out, b) => { out.cleanSession = b }),
  shared_subscription_policy: 'no_effect',
  queue_type: (v, out) => {
    if (v !== 'fifo' && v !== 'lifo') return false
    out.queueType = v
    return true
  },
  max_drain_time: 'no_effect',
  max_msgs_per_drain_step: 'no_effect',
  subscriber_id: (v, out) => {
    const { client_id: clientId, mountpoint } = (typeof v === 'object' && v !== null ? v : {}) as { client_id?: unknown, mountpoint?: unknown }
    // an empty id would be replaced by a generated one; U+0000 is not allowed in an MQTT string
    if (typeof clientId !== 'string' || clientId === '' || clientId.includes('\u0000') || typeof mountpoint !== 'string') return false
    out.subscriberId = { clientId, mountpoint }
    return true
  }
}

// VerneMQ's MQTT 5 session reads a clean_start modifier, which webhooks cannot give: clean_session does nothing there
const REGISTER_M5: typeof REGISTER = { ...REGISTER, clean_session: 'no_effect', properties: 'no_effect' }

/** The value types VerneMQ accepts for the modifiers vmq-ts does not apply. */
const NO_EFFECT_TYPES: Record<string, Reader<unknown>> = {
  properties: anyOf('object'),
  clean_session: anyOf('boolean'),
  max_drain_time: anyOf('number'),
  max_msgs_per_drain_step: anyOf('number'),
  shared_subscription_policy: anyOf('string')
}

function check<T> (table: Record<string, Reader<T> | 'no_effect'>, modifiers: Record<string, unknown>, out: T): Checked<T> {
  const noEffect: string[] = []
  for (const [name, value] of Object.entries(modifiers)) {
    const reader = Object.hasOwn(table, name) ? table[name] : undefined
    if (reader === undefined) return { ok: false, problem: `modifier "${name}" is not one VerneMQ allows` }
    const fits = reader === 'no_effect' ? NO_EFFECT_TYPES[name](value, undefined) : reader(value, out)
    if (!fits) return { ok: false, problem: `modifier ${name} has an invalid value ${JSON.stringify(value) ?? String(value)}` }
    if (reader === 'no_effect') noEffect.push(name)
  }
  return { ok: true, value: out, noEffect }
}

export function publishModifiers (hook: HookName, modifiers: Record<string, unknown>): Checked<PublishModifiers> {
  return check(hook === 'auth_on_publish_m5' ? PUBLISH_M5 : PUBLISH, modifiers, {})
}

/**
 * auth_on_register(_m5) modifiers. VerneMQ takes `client_id` and `mountpoint`
 * only together (as its subscriber_id); either one alone is not allowed.
 */
export function registerModifiers (hook: HookName, modifiers: Record<string, unknown>): Checked<ClientOverrides> {
  const { client_id: clientId, mountpoint, ...rest } = modifiers
  const both = typeof clientId === 'string' && typeof mountpoint === 'string'
  const given = both ? { subscriber_id: { client_id: clientId, mountpoint }, ...rest } : modifiers
  const checked = check(hook === 'auth_on_register_m5' ? REGISTER_M5 : REGISTER, given, {})
  if (!checked.ok && both && checked.problem.startsWith('modifier subscriber_id ')) {
    return { ok: false, problem: `modifiers client_id and mountpoint have an invalid value ${JSON.stringify({ client_id: clientId, mountpoint })}` }
  }
  return checked
}

/**
 * on_auth_m5: `reason_code` 0 (success) or 24 (continue authentication) and
 * `properties` with `p_authentication_method` and, base64, `p_authentication_data`
 * (the only properties VerneMQ allows there).
 */
export function authModifiers (modifiers: Record<string, unknown>): Checked<{ reasonCode: number, method: string, data?: Buffer }> {
  const { reason_code: code, properties, ...rest } = modifiers
  const extra = Object.keys(rest)[0]
  if (extra !== undefined) return { ok: false, problem: `modifier "${extra}" is not one VerneMQ allows` }
  const rc = int(code)
  if (rc === undefined) return { ok: false, problem: `modifier reason_code has an invalid value ${JSON.stringify(code) ?? String(code)}` }
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return { ok: false, problem: 'modifier properties is missing or not an object' }
  const { p_authentication_method: method, p_authentication_data: data, ...others } = properties as Record<string, unknown>
  const other = Object.keys(others)[0]
  if (other !== undefined) return { ok: false, problem: `property "${other}" is not one VerneMQ allows` }
  if (typeof method !== 'string') return { ok: false, problem: 'property p_authentication_method is missing or not a string' }
  if (data !== undefined && typeof data !== 'string') return { ok: false, problem: 'property p_authentication_data is not a (base64) string' }
  return { ok: true, value: { reasonCode: rc, method, data: data === undefined ? undefined : Buffer.from(data, 'base64') }, noEffect: [] }
}
