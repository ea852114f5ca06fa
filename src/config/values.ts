// Value syntaxes of vernemq.conf (cuttlefish): on/off flags, integers, durations,
// byte sizes, ip:port, enums. Each parser returns the typed value or a short
// description of what was expected.

export type Value = string | number | boolean | null

export type ValueType =
  | { kind: 'flag' }
  | { kind: 'integer', min?: number, max?: number }
  | { kind: 'integer_or_infinity', min?: number }
  | { kind: 'duration', none?: string } // `never` (or `none`) or <n><s|h|d|w|m|y>, stored as seconds (null = never)
  | { kind: 'bytes' } // integer, optional KB/MB/GB suffix
  | { kind: 'string' }
  | { kind: 'path' }
  | { kind: 'enum', values: readonly string[] }
  | { kind: 'ipport' }
  | { kind: 'versions' } // comma-separated MQTT protocol levels, e.g. "3,4,5"

export type Parsed = { ok: true, value: Value } | { ok: false, expected: string }

const DURATION_UNITS: Record<string, number> = {
  s: 1, h: 3600, d: 86400, w: 7 * 86400, m: 30 * 86400, y: 365 * 86400
}
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

export function describeType (t: ValueType): string {
  switch (t.kind) {
    case 'flag': return 'on or off'
    case 'integer': return rangeText('an integer', t.min, t.max)
    case 'integer_or_infinity': return rangeText('an integer or infinity', t.min, undefined)
    case 'duration': return `a duration like 1h, 1d, 1w, 1m, 1y or ${t.none ?? 'never'}`
    case 'bytes': return 'a size in bytes (optionally with KB, MB or GB)'
    case 'string': return 'a string'
    case 'path': return 'a file path'
    case 'enum': return 'one of ' + t.values.join(', ')
    case 'ipport': return 'an address as ip:port'
    case 'versions': return 'a comma-separated list of MQTT protocol levels (3, 4, 5)'
  }
}

function rangeText (base: string, min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return `${base} from ${min} to ${max}`
  if (min !== undefined) return `${base} >= ${min}`
  return base
}

export function parseValue (t: ValueType, raw: string): Parsed {
  const text = unquote(raw.trim())
  const fail: Parsed = { ok: false, expected: describeType(t) }
  switch (t.kind) {
    case 'flag':
      if (['on', 'true', 'yes'].includes(text)) return { ok: true, value: true }
      if (['off', 'false', 'no'].includes(text)) return { ok: true, value: false }
      return fail
    case 'integer': {
      const n = parseInteger(text)
      if (n === undefined || (t.min !== undefined && n < t.min) || (t.max !== undefined && n > t.max)) return fail
      return { ok: true, value: n }
    }
    case 'integer_or_infinity': {
      if (text === 'infinity') return { ok: true, value: Infinity }
      const n = parseInteger(text)
      if (n === undefined || (t.min !== undefined && n < t.min)) return fail
      return { ok: true, value: n }
    }
    case 'duration': {
      if (text === (t.none ?? 'never')) return { ok: true, value: null }
      const m = /^(\d+)([shdwmy])$/.exec(text)
      if (m === null) return fail
      return { ok: true, value: Number(m[1]) * DURATION_UNITS[m[2]] }
    }
    case 'bytes': {
      const m = /^(\d+)\s*([a-zA-Z]*)$/.exec(text)
      const unit = m === null ? undefined : BYTE_UNITS[m[2].toLowerCase()]
      if (m === null || unit === undefined) return fail
      return { ok: true, value: Number(m[1]) * unit }
    }
    case 'string':
    case 'path':
      return { ok: true, value: text }
    case 'enum':
      return t.values.includes(text) ? { ok: true, value: text } : fail
    case 'ipport':
      return parseIpPort(text) === undefined ? fail : { ok: true, value: text }
    case 'versions': {
      const parts = text.split(',').map(s => s.trim())
      if (parts.length === 0 || !parts.every(p => /^(3|4|5|131|132)$/.test(p))) return fail
      return { ok: true, value: parts.join(',') }
    }
  }
}

/** Renders a typed value the way it is written in vernemq.conf. */
export function formatValue (t: ValueType, value: Value): string {
  if (value === null) return t.kind === 'duration' ? t.none ?? 'never' : ''
  if (t.kind === 'flag') return value === true ? 'on' : 'off'
  if (value === Infinity) return 'infinity'
  if (t.kind === 'duration' && typeof value === 'number') return formatDuration(value)
  return String(value)
}

function formatDuration (seconds: number): string {
  for (const unit of ['y', 'm', 'w', 'd', 'h']) {
    const size = DURATION_UNITS[unit]
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`
  }
  return `${seconds}s`
}

function parseInteger (text: string): number | undefined {
  if (!/^-?\d+$/.test(text)) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}

export function unquote (text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return text.slice(1, -1)
  return text
}

export interface HostPort { host: string, port: number }

/** `127.0.0.1:1883`, `[::1]:1883`, `localhost:1883`; port 0..65535. */
export function parseIpPort (text: string): HostPort | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([A-Za-z0-9_.-]+):(\d{1,5})$/.exec(text)
  if (m === null) return undefined
  const port = Number(m[2])
  if (port > 65535) return undefined
  return { host: m[1], port }
}
