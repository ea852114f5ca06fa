// vernemq.conf text -> typed settings and listener definitions. Every problem of
// a file is collected (with file:line and the key) so the operator sees them all
// at once; a file with any problem is refused as a whole.
import { allKeyNames, findKey, findListenerOption, IGNORED_PREFIXES, isListenerType, KEYS, LISTENER_OPTIONS, type ListenerType } from './schema.js'
import { describeType, parseIpPort, parseValue, unquote, type Value } from './values.js'
import { suggest } from './suggest.js'
import { escapeLineControls, shown } from './shown.js'
import { isBridgeKey } from './bridge.js'

export interface Problem {
  file: string
  line: number
  key?: string
  message: string
}

export function formatProblem (p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file
  return escapeLineControls(p.key === undefined ? `${where}: ${p.message}` : `${where}: ${shown(p.key)}: ${p.message}`)
}

export class ConfigError extends Error {
  constructor (readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.name = 'ConfigError'
  }
}

/** One `key = value` line with where it came from. */
export interface Entry {
  key: string
  value: string
  file: string
  line: number
}

/** Listener settings as written: address per listener, options per scope. */
export interface ListenerEntries {
  /** `${type}.${name}` -> address text, or 'off' */
  addresses: Map<string, string>
  /** scope ('' global, 'tcp', 'tcp.default') -> option -> value */
  options: Map<string, Map<string, Value>>
}

export interface ParsedConfig {
  values: Map<string, Value>
  listeners: ListenerEntries
  /** vmq_bridge.* lines, read by bridge.ts */
  bridgeEntries: Entry[]
  warnings: string[]
}

/**
 * Splits config text into entries; malformed lines become problems. \n, \r\n
 * and a lone \r (old Mac files) all end a line. A key written twice in one
 * file is refused: the later line would silently win, which hides mistakes.
 */
export function readEntries (text: string, file: string, problems: Problem[]): Entry[] {
  const entries: Entry[] = []
  text.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq <= 0) {
      problems.push({ file, line: index + 1, message: `expected "key = value", got "${shown(line)}"` })
      return
    }
    entries.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), file, line: index + 1 })
  })
  reportRepeatedKeys(entries, problems)
  return entries
}

function reportRepeatedKeys (entries: Entry[], problems: Problem[]): void {
  const firstLine = new Map<string, number>()
  for (const { key, file, line } of entries) {
    const name = findKey(key)?.key ?? key
    const first = firstLine.get(name)
    if (first === undefined) firstLine.set(name, line)
    else problems.push({ file, line, key, message: `given twice (first at line ${first})` })
  }
}

/** Applies entries in order (later wins) onto a fresh config. */
export function interpret (entries: Entry[], problems: Problem[]): ParsedConfig {
  const config: ParsedConfig = {
    values: new Map(),
    listeners: { addresses: new Map(), options: new Map() },
    bridgeEntries: [],
    warnings: []
  }
  for (const entry of entries) applyEntry(config, entry, problems)
  return config
}

function applyEntry (config: ParsedConfig, entry: Entry, problems: Problem[]): void {
  const { key, value, file, line } = entry
  const problem = (message: string): void => { problems.push({ file, line, key, message }) }
  if (key.startsWith('listener.')) {
    applyListenerEntry(config.listeners, entry, problem)
    return
  }
  if (isBridgeKey(key)) {
    config.bridgeEntries.push(entry)
    return
  }
  const def = findKey(key)
  if (def !== undefined) {
    const parsed = parseValue(def.type, value)
    if (parsed.ok && def.key === 'distributed_cookie' && parsed.value === '') problem('must not be empty: every admin and cluster call is checked against it')
    else if (parsed.ok) config.values.set(def.key, parsed.value)
    else problem(`invalid value "${shown(value)}", expected ${parsed.expected}`)
    return
  }
  if (IGNORED_PREFIXES.some(prefix => key.startsWith(prefix))) {
    config.warnings.push(`${file}:${line}: ${shown(key)} is a VerneMQ setting vmq-ts does not use; ignored`)
    return
  }
  problem('unknown key' + didYouMean(key))
}

function applyListenerEntry (listeners: ListenerEntries, entry: Entry, problem: (m: string) => void): void {
  const parts = entry.key.split('.').slice(1)
  if (parts.length === 1) {
    setListenerOption(listeners, '', parts[0], entry.value, problem)
    return
  }
  const [type, nameOrOption, ...rest] = parts
  if (!isListenerType(type)) {
    problem(`unknown listener type "${shown(type)}", expected one of tcp, ssl, ws, wss, vmq, vmqs, http, https` + didYouMean(entry.key))
    return
  }
  if (rest.length === 0 && findListenerOption(nameOrOption) !== undefined) {
    setListenerOption(listeners, type, nameOrOption, entry.value, problem)
    return
  }
  if (rest.length === 0) {
    setListenerAddress(listeners, type, nameOrOption, entry.value, problem)
    return
  }
  setListenerOption(listeners, `${type}.${nameOrOption}`, rest.join('.'), entry.value, problem)
}

function setListenerAddress (listeners: ListenerEntries, type: ListenerType, name: string, raw: string, problem: (m: string) => void): void {
  const value = unquote(raw)
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    problem(`invalid listener name "${shown(name)}" (letters, digits, _ and - only)`)
    return
  }
  if (value !== 'off' && parseIpPort(value) === undefined) {
    problem(`invalid value "${shown(raw)}", expected an address as ip:port (or off)`)
    return
  }
  listeners.addresses.set(`${type}.${name}`, value)
}

function setListenerOption (listeners: ListenerEntries, scope: string, option: string, raw: string, problem: (m: string) => void): void {
  const def = findListenerOption(option)
  if (def === undefined) {
    problem(`unknown listener option "${shown(option)}"` + didYouMean(option, LISTENER_OPTIONS.map(d => d.key)))
    return
  }
  const parsed = def.key === 'mountpoint' && unquote(raw) === 'off'
    ? { ok: true as const, value: '' }
    : parseValue(def.type, raw)
  if (!parsed.ok) {
    problem(`invalid value "${shown(raw)}", expected ${describeType(def.type)}`)
    return
  }
  let scoped = listeners.options.get(scope)
  if (scoped === undefined) listeners.options.set(scope, scoped = new Map())
  scoped.set(def.key, parsed.value)
}

function didYouMean (key: string, candidates: string[] = allKeyNames()): string {
  const best = suggest(key, candidates)
  return best === undefined ? '' : ` (did you mean "${best}"?)`
}

/** The default of every plain key, before any file or override. */
export function defaultValues (): Map<string, Value> {
  return new Map(KEYS.map(def => [def.key, def.default]))
}
