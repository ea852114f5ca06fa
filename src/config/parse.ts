// vernemq.conf text -> typed settings and listener definitions. Every problem of
// a file is collected (with file:line and the key) so the operator sees them all
// at once; a file with any problem is refused as a whole.
import { allKeyNames, findKey, findListenerOption, findPatternKey, IGNORED_PREFIXES, isListenerType, KEYS, LISTENER_OPTIONS, PLAIN_LISTENER_OPTIONS, type KeyDef, type ListenerType } from './schema.js'
import { refusal } from './refusals.js'
import { describeType, parseIpPort, parseValue, unquote, type Value } from './values.js'
import { suggest } from './suggest.js'
import { escapeLineControls, shown } from './shown.js'
import { applyWebhookEntry, type WebhookEntries } from './webhooks.js'
import { isBridgeKey } from './bridge.js'
import type { Entry, Problem } from './entry.js'

export type { Entry, Problem }

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
  /** vmq_webhooks.<NAME>.<option> lines, by NAME */
  webhooks: WebhookEntries
  /** vmq_bridge.* lines, read by bridge.ts */
  bridgeEntries: Entry[]
  warnings: string[]
}

/** An `include <glob>` line: the matching files' lines take its place. */
export interface Include {
  pattern: string
  file: string
  line: number
  /** index in the file's entries where the included entries go */
  at: number
}

/**
 * Splits config text into entries; malformed lines become problems. \n, \r\n
 * and a lone \r (old Mac files) all end a line. A key written twice in one
 * file is refused: the later line would silently win, which hides mistakes.
 * `include` lines (cuttlefish's, as in the generated vernemq.conf's last line)
 * are collected into `includes`; without that list they are problems.
 */
export function readEntries (text: string, file: string, problems: Problem[], includes?: Include[]): Entry[] {
  const entries: Entry[] = []
  text.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const include = /^include\s+(\S.*)$/.exec(line)
    if (include !== null && !line.includes('=')) {
      if (includes === undefined) problems.push({ file, line: index + 1, message: 'include is only allowed in a config file' })
      else includes.push({ pattern: include[1], file, line: index + 1, at: entries.length })
      return
    }
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
    webhooks: new Map(),
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
    const warn = (message: string): void => { config.warnings.push(`${file}:${line}: ${shown(key)} ${message}`) }
    applyListenerEntry(config.listeners, entry, problem, warn)
    return
  }
  if (PLAIN_LISTENER_OPTIONS.includes(key)) {
    setListenerOption(config.listeners, '', key, value, problem, () => { config.warnings.push(notApplied(file, line, key)) })
    return
  }
  if (isBridgeKey(key)) {
    config.bridgeEntries.push(entry)
    return
  }
  const def = findKey(key)
  if (def !== undefined) {
    applyKey(config, def, entry, problem)
    return
  }
  const family = findPatternKey(key)
  if (family !== undefined) {
    applyKey(config, family, entry, problem)
    return
  }
  if (applyWebhookEntry(config.webhooks, key, value, problem)) return
  if (IGNORED_PREFIXES.some(prefix => key.startsWith(prefix))) {
    config.warnings.push(`${file}:${line}: ${shown(key)} is a VerneMQ setting vmq-ts does not use; ignored`)
    return
  }
  problem('unknown key' + didYouMean(key))
}

function applyKey (config: ParsedConfig, def: KeyDef, { key, value, file, line }: Entry, problem: (m: string) => void): void {
  const parsed = parseValue(def.type, value)
  if (!parsed.ok) {
    problem(`invalid value "${shown(value)}", expected ${parsed.expected}`)
    return
  }
  const refused = def.key === 'distributed_cookie' && parsed.value === ''
    ? 'must not be empty: every admin and cluster call is checked against it'
    : refusal(key, parsed.value)
  if (refused !== undefined) {
    problem(refused)
    return
  }
  // a family member (plugins.foo.path) has no value of its own to keep: it has no effect
  if (def.key === key || findKey(key) === def) config.values.set(def.key, parsed.value)
  if (def.applied === false) config.warnings.push(notApplied(file, line, key))
}

function applyListenerEntry (listeners: ListenerEntries, entry: Entry, problem: (m: string) => void, warn: (m: string) => void): void {
  const inert = (): void => { warn(NOT_APPLIED) }
  const parts = entry.key.split('.').slice(1)
  if (parts.length === 1) {
    setListenerOption(listeners, '', parts[0], entry.value, problem, inert)
    return
  }
  const [type, nameOrOption, ...rest] = parts
  if (!isListenerType(type)) {
    problem(`unknown listener type "${shown(type)}", expected one of tcp, ssl, ws, wss, vmq, vmqs, http, https` + didYouMean(entry.key))
    return
  }
  if (rest.length === 0 && findListenerOption(nameOrOption) !== undefined) {
    setListenerOption(listeners, type, nameOrOption, entry.value, problem, inert)
    return
  }
  if (rest.length === 0) {
    setListenerAddress(listeners, type, nameOrOption, entry.value, problem, warn)
    return
  }
  // VerneMQ's generated file sets options for the placeholder name itself; they reach no listener there either
  const placeholder = nameOrOption === '$name'
  setListenerOption(listeners, `${type}.${nameOrOption}`, rest.join('.'), entry.value, problem, placeholder ? () => {} : inert)
  if (placeholder && findListenerOption(rest.join('.')) !== undefined) warn(`has no effect: $name is the placeholder of VerneMQ's generated file, not a listener name; the value is accepted and not used`)
}

function setListenerAddress (listeners: ListenerEntries, type: ListenerType, name: string, raw: string, problem: (m: string) => void, warn: (m: string) => void): void {
  const value = unquote(raw)
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    problem(`invalid listener name "${shown(name)}" (letters, digits, _ and - only)`)
    return
  }
  if (type === 'tcp' && /^local:.+:\d+$/.test(value)) {
    // counted as configured (so no implicit 127.0.0.1:1883 listener replaces it), never started
    listeners.addresses.set(`${type}.${name}`, 'off')
    warn('is a unix-socket listener, which vmq-ts does not have; this listener is not started')
    return
  }
  if (value !== 'off' && parseIpPort(value) === undefined) {
    problem(`invalid value "${shown(raw)}", expected an address as ip:port (or off)`)
    return
  }
  listeners.addresses.set(`${type}.${name}`, value)
}

function setListenerOption (listeners: ListenerEntries, scope: string, option: string, raw: string, problem: (m: string) => void, inert: () => void): void {
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
  if (def.applied === false) inert()
}

const NOT_APPLIED = 'has no effect in vmq-ts yet; the value is accepted and not used'

function notApplied (file: string, line: number, key: string): string {
  return `${file}:${line}: ${shown(key)} ${NOT_APPLIED}`
}

function didYouMean (key: string, candidates: string[] = allKeyNames()): string {
  const best = suggest(key, candidates)
  return best === undefined ? '' : ` (did you mean "${best}"?)`
}

/** The default of every plain key, before any file or override. */
export function defaultValues (): Map<string, Value> {
  return new Map(KEYS.map(def => [def.key, def.default]))
}
