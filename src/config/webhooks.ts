// Webhooks configured in vernemq.conf, VerneMQ's way: `vmq_webhooks.<NAME>.hook`
// and `.endpoint` (both required) plus per-name options; the names are sorted,
// and that is the order in which the endpoints of one hook are asked.
import { describeType, parseValue, unquote, type Value, type ValueType } from './values.js'
import { shown } from './shown.js'

/** Every hook VerneMQ's webhooks plugin offers. */
export const WEBHOOK_HOOKS = [
  'auth_on_register', 'auth_on_publish', 'auth_on_subscribe', 'on_register', 'on_publish', 'on_subscribe',
  'on_unsubscribe', 'on_deliver', 'on_offline_message', 'on_client_wakeup', 'on_client_offline', 'on_client_gone',
  'on_session_expired', 'auth_on_register_m5', 'auth_on_publish_m5', 'auth_on_subscribe_m5', 'on_register_m5',
  'on_publish_m5', 'on_subscribe_m5', 'on_unsubscribe_m5', 'on_deliver_m5', 'on_auth_m5'
] as const
export type HookName = typeof WEBHOOK_HOOKS[number]

export function isHookName (word: string): word is HookName {
  return (WEBHOOK_HOOKS as readonly string[]).includes(word)
}

/** What VerneMQ waits for an endpoint registered with `vmq-admin webhooks register`. */
export const DEFAULT_RESPONSE_TIMEOUT = 5000
/**
 * ... and for one of vernemq.conf: its schema documents 5000, but that default
 * applies only to the example name webhook1; the translation falls back to 8000.
 */
export const CONFIG_RESPONSE_TIMEOUT = 8000

/** One endpoint registered for one hook, and how to call it. */
export interface WebhookSpec {
  hook: HookName
  endpoint: string
  /** base64-encode MQTT payloads in requests and decode payload modifiers (default on) */
  base64Payload: boolean
  /** auth_on_publish(_m5) requests leave the payload out */
  noPayload: boolean
  /** ms to wait for the answer */
  responseTimeout: number
}

const OPTIONS: Record<string, ValueType> = {
  hook: { kind: 'enum', values: WEBHOOK_HOOKS },
  endpoint: { kind: 'string' },
  base64encode: { kind: 'flag' },
  no_payload: { kind: 'flag' },
  response_timeout: { kind: 'integer', min: 1 }
}

export const WEBHOOK_OPTION_NAMES = Object.keys(OPTIONS)

/** `vmq_webhooks.<NAME>.<option>` as written, by NAME. */
export type WebhookEntries = Map<string, Map<string, Value>>

/**
 * Takes a `vmq_webhooks.<NAME>.<option>` line; false when the key is not of
 * that form (it may be a plain vmq_webhooks key or unknown).
 */
export function applyWebhookEntry (entries: WebhookEntries, key: string, raw: string, problem: (m: string) => void): boolean {
  const parts = key.split('.')
  if (parts.length !== 3 || parts[0] !== 'vmq_webhooks') return false
  const [, name, option] = parts
  const type = OPTIONS[option]
  if (type === undefined) {
    problem(`unknown webhook option "${shown(option)}", expected one of ${WEBHOOK_OPTION_NAMES.join(', ')}`)
    return true
  }
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    problem(`invalid webhook name "${shown(name)}" (letters, digits, _ and - only)`)
    return true
  }
  const parsed = parseValue(type, raw)
  if (!parsed.ok) {
    problem(`invalid value "${shown(raw)}", expected ${describeType(type)}`)
    return true
  }
  if (option === 'endpoint') {
    const why = endpointProblem(String(parsed.value))
    if (why !== undefined) {
      problem(why)
      return true
    }
  }
  let options = entries.get(name)
  if (options === undefined) entries.set(name, options = new Map())
  options.set(option, parsed.value)
  return true
}

/** Why an endpoint URL cannot be called, or undefined. */
export function endpointProblem (text: string): string | undefined {
  let url: URL
  try {
    url = new URL(unquote(text))
  } catch {
    return `invalid endpoint "${shown(text)}", expected an http:// or https:// URL`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `invalid endpoint "${shown(text)}", expected an http:// or https:// URL`
  return undefined
}

/** The configured webhooks in name order; a name without hook or endpoint is a problem. */
export function resolveWebhooks (entries: WebhookEntries, problem: (m: string) => void): WebhookSpec[] {
  const specs: WebhookSpec[] = []
  for (const name of [...entries.keys()].sort()) {
    const options = entries.get(name) as Map<string, Value>
    const hook = options.get('hook')
    const endpoint = options.get('endpoint')
    if (endpoint === undefined) problem(`vmq_webhooks.${name}.endpoint is not defined`)
    if (hook === undefined) problem(`vmq_webhooks.${name}.hook is not defined`)
    if (hook === undefined || endpoint === undefined) continue
    specs.push({
      hook: hook as HookName,
      endpoint: unquote(String(endpoint)),
      base64Payload: options.get('base64encode') !== false,
      noPayload: options.get('no_payload') === true,
      responseTimeout: (options.get('response_timeout') as number | undefined) ?? CONFIG_RESPONSE_TIMEOUT
    })
  }
  return specs
}
