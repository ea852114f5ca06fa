// Assembles a node's configuration: schema defaults, then the file (or the
// embedded development config), then DOCKER_VERNEMQ_* variables, then --set.
import { dirname, isAbsolute, resolve } from 'node:path'
import { FileRefused, MAX_CONFIG_BYTES, readBoundedSync } from './bounded-read.js'
import { DEV_CONFIG, DEV_CONFIG_NAME, IMPLICIT_LISTENERS } from './defaults.js'
import { envEntries } from './env.js'
import { ConfigError, defaultValues, interpret, readEntries, type Entry, type Include, type ListenerEntries, type Problem } from './parse.js'
import { includedFiles } from './include.js'
import { isBridgePathKey, parseBridges, type BridgeConfig } from './bridge.js'
import { findKey, findListenerOption, KEYS, LISTENER_OPTIONS, type ListenerType } from './schema.js'
import { parseIpPort, unquote, type Value } from './values.js'
import { resolveWebhooks, type WebhookSpec } from './webhooks.js'

export interface LoadOptions {
  /** path of vernemq.conf; undefined = embedded development config */
  file?: string
  /** `key=value` overrides from the command line */
  sets?: string[]
  env?: NodeJS.ProcessEnv
}

export interface ListenerConfig {
  type: ListenerType
  name: string
  host: string
  port: number
  /** every listener option, resolved most specific first */
  options: Map<string, Value>
  /** started with `vmq-admin listener start` rather than configured */
  runtime?: boolean
  /** accepted by another process (the workers' primary) and handed over; this process does not bind it */
  external?: boolean
}

export interface NodeConfig {
  /** where the config came from, for logs */
  source: string
  values: Map<string, Value>
  listeners: ListenerConfig[]
  /** listener options as configured per scope ('' = all, 'tcp' = type, 'tcp.NAME'), for listeners started at runtime */
  listenerOptions: ListenerEntries['options']
  /** vmq_webhooks.<NAME>.* in name order */
  webhooks: WebhookSpec[]
  /** vmq_bridge.tcp|ssl.NAME, run while plugins.vmq_bridge is on */
  bridges: BridgeConfig[]
  warnings: string[]
}

export function loadConfig (opts: LoadOptions): NodeConfig {
  const problems: Problem[] = []
  const source = opts.file ?? DEV_CONFIG_NAME
  const fileDir = opts.file === undefined ? undefined : dirname(resolve(opts.file))
  const fileEntries = opts.file === undefined ? readEntries(DEV_CONFIG, source, problems) : readConfigTree(opts.file, problems, 0)
  const entries: Entry[] = [
    ...fileEntries,
    ...envEntries(opts.env ?? {}),
    ...(opts.sets ?? []).map((text, i) => setEntry(text, i, problems)).filter((e): e is Entry => e !== undefined)
  ]
  const parsed = interpret(entries, problems)
  const listeners = resolveListeners(parsed.listeners)
  const bridges = parseBridges(parsed.bridgeEntries, problems, parsed.warnings)
  const clustering = clusterListenerProblem(listeners)
  if (clustering !== undefined) problems.push({ file: source, line: 0, message: clustering })
  const webhooks = resolveWebhooks(parsed.webhooks, message => { problems.push({ file: source, line: 0, message }) })
  if (problems.length > 0) throw new ConfigError(problems)
  const values = defaultValues()
  if (fileDir !== undefined) resolveDefaultPaths(values, fileDir)
  for (const [key, value] of parsed.values) values.set(key, value)
  return { source, values, listeners, listenerOptions: parsed.listeners.options, webhooks, bridges, warnings: parsed.warnings }
}

const CLUSTER_TYPES: readonly string[] = ['vmq', 'vmqs']

/** The node's one endpoint for admin and cluster traffic: its vmq (plain) or vmqs (TLS) listener. */
export function clusterListener (listeners: ListenerConfig[]): ListenerConfig | undefined {
  return listeners.find(l => CLUSTER_TYPES.includes(l.type))
}

// A node has one cluster endpoint: a plain one next to a TLS one would leave the cookie and the traffic readable.
function clusterListenerProblem (listeners: ListenerConfig[]): string | undefined {
  const types = new Set(listeners.filter(l => CLUSTER_TYPES.includes(l.type)).map(l => l.type))
  if (types.size < 2) return undefined
  const keys = listeners.filter(l => CLUSTER_TYPES.includes(l.type)).map(l => `listener.${l.type}.${l.name}`)
  return `${keys.join(' and ')} are both configured: a node has one cluster listener, plain (vmq) or TLS (vmqs); set the other to off`
}

/** Includes within includes are followed this deep; a file including itself stops here. */
const MAX_INCLUDE_DEPTH = 8

/** A config file's entries with those of the files it includes in place of each include line. */
function readConfigTree (file: string, problems: Problem[], depth: number): Entry[] {
  const includes: Include[] = []
  const dir = dirname(resolve(file))
  const entries = readEntries(readConfigFile(file), file, problems, includes).map(e => relativeTo(dir, e))
  for (const include of includes.reverse()) {
    if (depth >= MAX_INCLUDE_DEPTH) {
      problems.push({ file, line: include.line, message: `include nested more than ${MAX_INCLUDE_DEPTH} deep (does a file include itself?)` })
      continue
    }
    const included = includedFiles(file, include.pattern).flatMap(path => readConfigTree(path, problems, depth + 1))
    entries.splice(include.at, 0, ...included)
  }
  return entries
}

function readConfigFile (file: string): string {
  try {
    return readBoundedSync(file, MAX_CONFIG_BYTES).toString('utf8')
  } catch (err) {
    const reason = err instanceof FileRefused ? err.message : (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message
    throw new ConfigError([{ file, line: 0, message: `cannot read config file: ${reason}` }])
  }
}

/**
 * A relative path written in a config file is relative to that file's
 * directory, and so are the defaults of persistent_dir, the log files and the
 * password and ACL files when a file is used: data and logs never land in the
 * current directory of whoever ran `vmq start`. (Without -c, the embedded
 * development config keeps them relative to the current directory.)
 */
function relativeTo (dir: string, entry: Entry): Entry {
  const value = unquote(entry.value)
  if (!isPathKey(entry.key) || value === '' || isAbsolute(value)) return entry
  return { ...entry, value: resolve(dir, value) }
}

function isPathKey (key: string): boolean {
  if (isBridgePathKey(key)) return true
  const def = key.startsWith('listener.') ? findListenerOption(key.split('.').at(-1) ?? '') : findKey(key)
  return def?.type.kind === 'path'
}

function resolveDefaultPaths (values: Map<string, Value>, dir: string): void {
  for (const def of KEYS) {
    if (def.type.kind === 'path' && typeof def.default === 'string' && def.default !== '') values.set(def.key, resolve(dir, def.default))
  }
}

function setEntry (text: string, index: number, problems: Problem[]): Entry | undefined {
  const eq = text.indexOf('=')
  if (eq <= 0) {
    problems.push({ file: `--set #${index + 1}`, line: 0, message: `expected key=value, got "${text}"` })
    return undefined
  }
  return { key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim(), file: `--set ${text}`, line: 0 }
}

function resolveListeners (entries: ListenerEntries): ListenerConfig[] {
  const addresses = new Map(entries.addresses)
  const has = (types: string[]): boolean => [...addresses.keys()].some(k => types.includes(k.split('.')[0]))
  if (!has(['tcp', 'ssl', 'ws', 'wss'])) addresses.set(IMPLICIT_LISTENERS.mqtt.key, IMPLICIT_LISTENERS.mqtt.address)
  if (!has(['vmq', 'vmqs'])) addresses.set(IMPLICIT_LISTENERS.cluster.key, IMPLICIT_LISTENERS.cluster.address)
  const listeners: ListenerConfig[] = []
  for (const [key, address] of addresses) {
    if (address === 'off') continue
    const [type, name] = key.split('.') as [ListenerType, string]
    const hostPort = parseIpPort(address)
    if (hostPort === undefined) continue // validated by the parser
    listeners.push({ type, name, ...hostPort, options: resolveOptions(entries.options, type, name) })
  }
  return listeners
}

/** Every listener option for one listener: per listener, else per type, else global, else the default. */
export function resolveOptions (scoped: ListenerEntries['options'], type: string, name: string): Map<string, Value> {
  const scopes = [`${type}.${name}`, type, ''].map(scope => scoped.get(scope))
  const options = new Map<string, Value>()
  for (const def of LISTENER_OPTIONS) {
    const set = scopes.find(scope => scope?.has(def.key))
    options.set(def.key, set === undefined ? def.default : set.get(def.key) as Value)
  }
  return options
}
