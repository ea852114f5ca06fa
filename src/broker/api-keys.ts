// API keys of the HTTP modules (`vmq-admin api-key ...`), as VerneMQ keeps
// them: a key belongs to one scope and may expire; the same key may exist in
// several scopes. They live in <persistent_dir>/api_keys.json (mode 0600,
// replaced atomically), so they survive a restart. Members exchange their
// records, deletions included; per key and scope the newest change wins.
// A key never goes to a log.
import { randomInt, createHash, timingSafeEqual } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const API_KEY_SCOPES = ['status', 'mgmt', 'metrics', 'health', 'api2', 'httppub'] as const
export type ApiKeyScope = typeof API_KEY_SCOPES[number]
export const DEFAULT_SCOPE: ApiKeyScope = 'mgmt'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const CREATED_LENGTH = 32
const DAY_MS = 86_400_000

export interface ApiKey {
  key: string
  scope: ApiKeyScope
  /** ms since the epoch; undefined = never */
  expires?: number
}

/** A key as stored and exchanged: when it was last changed, and whether that change deleted it. */
export interface ApiKeyRecord extends ApiKey {
  changed: number
  deleted?: boolean
}

export class ApiKeyError extends Error {}

export interface ApiKeyPolicy {
  /** min_apikey_length */
  minLength: number
  /** max_apikey_expiry_days; 0 = no limit */
  maxExpiryDays: number
}

export function isScope (scope: string): scope is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(scope)
}

export function checkScope (scope: string): ApiKeyScope {
  if (!isScope(scope)) throw new ApiKeyError(`Invalid scope "${scope}": expected one of ${API_KEY_SCOPES.join(', ')}`)
  return scope
}

/**
 * `yyyy-mm-ddThh:mm:ss` in the node's local time (as VerneMQ reads it), or the
 * same with a trailing `Z` for UTC (what members pass each other); ms since the epoch.
 */
export function parseExpiry (text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z?)$/.exec(text)
  const invalid = new ApiKeyError(`Invalid expiry date "${text}": expected yyyy-mm-ddThh:mm:ss (local time)`)
  if (m === null) throw invalid
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number)
  const date = m[7] === 'Z' ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s)
  const local = m[7] === 'Z'
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()]
  // 2026-02-30 would roll over to March: refuse it
  if (local.join() !== [y, mo, d, h, mi, s].join()) throw invalid
  return date.getTime()
}

/** UTC as `yyyy-mm-dd hh:mm:ss`, the "Expires (UTC)" column. */
export function formatUtc (ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
}

/** A new random key of [A-Za-z0-9], 32 characters or min_apikey_length if longer. */
export function generateKey (minLength: number): string {
  let key = ''
  for (let i = 0; i < Math.max(CREATED_LENGTH, minLength); i++) key += ALPHABET[randomInt(ALPHABET.length)]
  return key
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

export class ApiKeys {
  private records: ApiKeyRecord[]
  private readonly file: string

  constructor (dir: string) {
    this.file = join(dir, 'api_keys.json')
    this.records = readKeys(this.file)
  }

  /** The live keys (of one scope). */
  list (scope?: ApiKeyScope): ApiKey[] {
    return this.records.filter(k => k.deleted !== true && (scope === undefined || k.scope === scope))
      .map(({ key, scope, expires }) => expires === undefined ? { key, scope } : { key, scope, expires })
  }

  /** Every record, deletions included, for a member catching up. */
  all (): ApiKeyRecord[] {
    return [...this.records]
  }

  /** Checks the policy (key length, expiry in the future and within max days) and stores the key; returns its record. */
  add (entry: ApiKey, policy: ApiKeyPolicy, now = Date.now()): ApiKeyRecord {
    if (entry.key.length < policy.minLength || entry.key.length === 0) {
      throw new ApiKeyError(`Invalid key length: an API key needs at least ${Math.max(1, policy.minLength)} characters (min_apikey_length)`)
    }
    if (this.find(entry.key, entry.scope) !== undefined) throw new ApiKeyError(`The key already exists in scope ${entry.scope}`)
    if (entry.key.includes(':') || /[\s\u0000-\u001f]/.test(entry.key)) {
      throw new ApiKeyError('Invalid key: it may not contain ":", spaces or control characters (it goes into an HTTP header)')
    }
    if (entry.expires !== undefined && entry.expires <= now) throw new ApiKeyError('Invalid expiry date: it is in the past')
    if (policy.maxExpiryDays > 0 && (entry.expires === undefined || entry.expires >= now + policy.maxExpiryDays * DAY_MS)) {
      throw new ApiKeyError(`Invalid expiry date: keys must expire within ${policy.maxExpiryDays} days (max_apikey_expiry_days)`)
    }
    const record = { ...entry, changed: now }
    this.merge([record])
    return record
  }

  /** Deletes a live key; its record (a deletion) or undefined when the scope has no such key. */
  delete (key: string, scope: ApiKeyScope, now = Date.now()): ApiKeyRecord | undefined {
    const found = this.find(key, scope)
    if (found === undefined) return undefined
    const record: ApiKeyRecord = { key, scope, changed: Math.max(now, found.changed + 1), deleted: true }
    this.merge([record])
    return record
  }

  /** Takes the records that are newer than what this node has (from a member); true when anything changed. */
  merge (incoming: readonly ApiKeyRecord[]): boolean {
    let changed = false
    for (const record of incoming) {
      const i = this.records.findIndex(k => k.key === record.key && k.scope === record.scope)
      if (i >= 0 && this.records[i].changed >= record.changed) continue
      if (i >= 0) this.records.splice(i, 1)
      this.records.push(record)
      changed = true
    }
    if (changed) this.save()
    return changed
  }

  /** Whether `key` is a key of `scope` that has not expired (compared in constant time). */
  allows (key: string, scope: ApiKeyScope, now = Date.now()): boolean {
    const wanted = digest(key)
    let found = false
    for (const k of this.records) {
      if (k.deleted === true || k.scope !== scope || (k.expires !== undefined && k.expires <= now)) continue
      if (timingSafeEqual(digest(k.key), wanted)) found = true
    }
    return found
  }

  private find (key: string, scope: ApiKeyScope): ApiKeyRecord | undefined {
    return this.records.find(k => k.key === key && k.scope === scope && k.deleted !== true)
  }

  private save (): void {
    mkdirSync(join(this.file, '..'), { recursive: true })
    const temp = `${this.file}.tmp`
    writeFileSync(temp, JSON.stringify(this.records) + '\n', { mode: 0o600 })
    renameSync(temp, this.file)
  }
}

function readKeys (file: string): ApiKeyRecord[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new ApiKeyError(`${file}: cannot be read (${(err as Error).message})`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new ApiKeyError(`${file}: not valid JSON; fix or remove the file (it holds the API keys)`)
  }
  if (!Array.isArray(parsed)) throw new ApiKeyError(`${file}: expected a JSON array of API keys`)
  return parsed.filter((k): k is ApiKeyRecord =>
    typeof k === 'object' && k !== null && typeof k.key === 'string' && isScope(k.scope) && (k.expires === undefined || typeof k.expires === 'number') &&
    typeof k.changed === 'number')
}
