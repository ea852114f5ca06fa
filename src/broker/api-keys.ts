// API keys of the HTTP modules (`vmq-admin api-key ...`), as VerneMQ keeps
// them: a key belongs to one scope and may expire; the same key may exist in
// several scopes. They live in <persistent_dir>/api_keys.json (mode 0600,
// replaced atomically), so they survive a restart. A key never goes to a log.
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
  private keys: ApiKey[]
  private readonly file: string

  constructor (dir: string) {
    this.file = join(dir, 'api_keys.json')
    this.keys = readKeys(this.file)
  }

  list (scope?: ApiKeyScope): ApiKey[] {
    return this.keys.filter(k => scope === undefined || k.scope === scope)
  }

  /** Checks the policy (key length, expiry in the future and within max days) and stores the key. */
  add (entry: ApiKey, policy: ApiKeyPolicy, now = Date.now()): void {
    if (entry.key.length < policy.minLength || entry.key.length === 0) {
      throw new ApiKeyError(`Invalid key length: an API key needs at least ${Math.max(1, policy.minLength)} characters (min_apikey_length)`)
    }
    if (this.keys.some(k => k.key === entry.key && k.scope === entry.scope)) throw new ApiKeyError(`The key already exists in scope ${entry.scope}`)
    if (entry.key.includes(':') || /[\s\u0000-\u001f]/.test(entry.key)) {
      throw new ApiKeyError('Invalid key: it may not contain ":", spaces or control characters (it goes into an HTTP header)')
    }
    if (entry.expires !== undefined && entry.expires <= now) throw new ApiKeyError('Invalid expiry date: it is in the past')
    if (policy.maxExpiryDays > 0 && (entry.expires === undefined || entry.expires >= now + policy.maxExpiryDays * DAY_MS)) {
      throw new ApiKeyError(`Invalid expiry date: keys must expire within ${policy.maxExpiryDays} days (max_apikey_expiry_days)`)
    }
    this.store(entry)
  }

  /** Stores a key another member accepted (its policy was checked there). */
  store (entry: ApiKey): void {
    this.keys = [...this.keys.filter(k => !(k.key === entry.key && k.scope === entry.scope)), entry]
    this.save()
  }

  /** false when the scope has no such key */
  delete (key: string, scope: ApiKeyScope): boolean {
    const kept = this.keys.filter(k => !(k.key === key && k.scope === scope))
    if (kept.length === this.keys.length) return false
    this.keys = kept
    this.save()
    return true
  }

  /** Whether `key` is a key of `scope` that has not expired (compared in constant time). */
  allows (key: string, scope: ApiKeyScope, now = Date.now()): boolean {
    const wanted = digest(key)
    let found = false
    for (const k of this.keys) {
      if (k.scope !== scope || (k.expires !== undefined && k.expires <= now)) continue
      if (timingSafeEqual(digest(k.key), wanted)) found = true
    }
    return found
  }

  private save (): void {
    mkdirSync(join(this.file, '..'), { recursive: true })
    const temp = `${this.file}.tmp`
    writeFileSync(temp, JSON.stringify(this.keys) + '\n', { mode: 0o600 })
    renameSync(temp, this.file)
  }
}

function readKeys (file: string): ApiKey[] {
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
  return parsed.filter((k): k is ApiKey =>
    typeof k === 'object' && k !== null && typeof k.key === 'string' && isScope(k.scope) && (k.expires === undefined || typeof k.expires === 'number'))
}
