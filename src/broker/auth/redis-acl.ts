// The value vmq_diversity's Redis auth keeps per login (VERNEMQ.md §5.2), checked
// field by field, and the publish/subscribe decision on its ACLs (§5.4).
//
// Stricter than VerneMQ: a field of the wrong type or out of range refuses the
// login (VerneMQ skips some with a warning), and so does a publish_acl or
// subscribe_acl that is not an array. An ACL with modifiers is never used:
// vmq-ts cannot rewrite a message, and granting it unmodified could widen what
// the operator meant to allow.
import { parseHash, type ParsedHash } from '../../passwd/hash.js'
import { aclMatchTopic, substitute, validateFilter, type Substitutions } from './topic.js'
import type { PublishRequest, SubscribeRequest } from './types.js'

/** VerneMQ's default and upper bound of max_payload_size (256 MiB). */
export const MAX_PAYLOAD_SIZE = 268435456

export interface RedisAcl {
  /** filter levels, `%u` `%c` `%m` still in place; undefined: this ACL never matches */
  pattern: readonly string[] | undefined
  maxQos: 0 | 1 | 2
  /** publish ACLs only; MAX_PAYLOAD_SIZE for subscribe ACLs */
  maxPayloadSize: number
  /** publish ACLs only; true for subscribe ACLs */
  allowedRetain: boolean
}

export interface RedisRecord {
  /** the passhash, a bcrypt hash ($2a$/$2b$/$2y$) */
  hash: ParsedHash
  publish: RedisAcl[]
  subscribe: RedisAcl[]
  /** what was ignored (unknown fields, unusable patterns, modifiers), for the log */
  notes: string[]
}

export type ParsedRecord = RedisRecord | { error: string }

type AclKind = 'publish_acl' | 'subscribe_acl'

/** Parses and checks one Redis value; `error` says what is wrong, for a log line naming the key. */
export function parseRecord (text: string): ParsedRecord {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { error: `value is not valid JSON (${(err as Error).message})` }
  }
  if (!isObject(value)) return { error: `value is ${describe(value)}, expected a JSON object` }
  const passhash = value.passhash
  if (passhash === undefined || passhash === null) return { error: 'value has no passhash' }
  if (typeof passhash !== 'string') return { error: `passhash is ${describe(passhash)}, expected a string` }
  const hash = parseHash(passhash)
  if (typeof hash === 'string' && /^\$2[aby]\$/.test(passhash)) return { error: `passhash: ${hash}` }
  if (typeof hash === 'string' || hash.kind !== 'bcrypt') return { error: 'passhash is not a bcrypt hash ($2a$, $2b$ or $2y$)' }
  const notes: string[] = []
  const publish = parseAcls('publish_acl', value.publish_acl, notes)
  if (typeof publish === 'string') return { error: publish }
  const subscribe = parseAcls('subscribe_acl', value.subscribe_acl, notes)
  if (typeof subscribe === 'string') return { error: subscribe }
  return { hash, publish, subscribe, notes }
}

function parseAcls (kind: AclKind, list: unknown, notes: string[]): RedisAcl[] | string {
  if (list === undefined || list === null) return []
  if (!Array.isArray(list)) return `${kind} is ${describe(list)}, expected an array of ACL objects`
  const acls: RedisAcl[] = []
  for (let i = 0; i < list.length; i++) {
    const acl = parseAcl(kind, `${kind}[${i}]`, list[i], notes)
    if (typeof acl === 'string') return acl
    acls.push(acl)
  }
  return acls
}

function parseAcl (kind: AclKind, where: string, entry: unknown, notes: string[]): RedisAcl | string {
  if (!isObject(entry)) return `${where} is ${describe(entry)}, expected an object`
  const acl: { pattern: string[] | undefined, maxQos: 0 | 1 | 2, maxPayloadSize: number, allowedRetain: boolean } =
    { pattern: undefined, maxQos: 2, maxPayloadSize: MAX_PAYLOAD_SIZE, allowedRetain: true }
  let usable = true
  for (const [field, v] of Object.entries(entry)) {
    if (v === null) continue
    const isPublish = kind === 'publish_acl'
    if (field === 'pattern') {
      if (typeof v !== 'string') return `${where}.pattern is ${describe(v)}, expected a string`
      const check = validateFilter(v)
      if (check.ok) acl.pattern = check.levels
      else notes.push(`${where}: pattern '${v}' is not a valid topic filter (${check.reason}); this ACL never matches`)
    } else if (field === 'max_qos') {
      if (v !== 0 && v !== 1 && v !== 2) return `${where}.max_qos is ${describe(v)}, expected 0, 1 or 2`
      acl.maxQos = v
    } else if (field === 'max_payload_size' && isPublish) {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_PAYLOAD_SIZE) {
        return `${where}.max_payload_size is ${describe(v)}, expected a whole number from 0 to ${MAX_PAYLOAD_SIZE}`
      }
      acl.maxPayloadSize = v as number
    } else if (field === 'allowed_retain' && isPublish) {
      if (typeof v !== 'boolean') return `${where}.allowed_retain is ${describe(v)}, expected true or false`
      acl.allowedRetain = v
    } else if (field === 'modifiers') {
      if (typeof v !== 'object') return `${where}.modifiers is ${describe(v)}, expected an object or an array`
      if (Object.keys(v).length > 0) {
        usable = false
        notes.push(`${where}: modifiers are not supported; this ACL is never used`)
      }
    } else {
      notes.push(`${where}: unknown field '${field}' ignored`)
    }
  }
  if (entry.pattern === undefined || entry.pattern === null) notes.push(`${where}: no pattern; this ACL never matches`)
  if (!usable) acl.pattern = undefined
  return acl
}

/**
 * The ACLs of one login, `%u` `%c` `%m` replaced where they are whole levels.
 * An ACL whose placeholder cannot be filled safely (anonymous `%u`, or a value
 * that is `+`, `#` or holds `/`) never matches; VerneMQ would insert it as is.
 */
export function bindAcls (acls: readonly RedisAcl[], values: Substitutions): RedisAcl[] {
  return acls.map(acl => acl.pattern === undefined ? acl : { ...acl, pattern: substitute(acl.pattern, values) })
}

/** First ACL whose limits hold and whose pattern covers the topic allows (VerneMQ's rule, `+` vs `#` quirk included). */
export function allowsPublish (acls: readonly RedisAcl[], req: PublishRequest): boolean {
  for (const acl of acls) {
    if (acl.pattern === undefined) continue
    if (req.qos > acl.maxQos || req.payloadSize > acl.maxPayloadSize || (req.retain && !acl.allowedRetain)) continue
    if (aclMatchTopic(req.topic, acl.pattern)) return true
  }
  return false
}

/** One filter (with its `$share/<group>/` prefix, if any) at the QoS asked for. */
export function allowsSubscribe (acls: readonly RedisAcl[], req: SubscribeRequest): boolean {
  if (req.topic.length === 0) return false
  for (const acl of acls) {
    if (acl.pattern === undefined || req.qos > acl.maxQos) continue
    if (aclMatchTopic(req.topic, acl.pattern)) return true
  }
  return false
}

/** The Redis key of a login: the compact JSON array [mountpoint, client_id, username]. */
export function redisKey (mountpoint: string, clientId: string, username: string): string {
  return JSON.stringify([mountpoint, clientId, username])
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`
  if (typeof v === 'object') return 'an object'
  return `${typeof v === 'number' ? 'the number' : 'the ' + typeof v} ${String(v)}`
}
