// vmq_bridge.* keys: `vmq_bridge.tcp.NAME = host:port` (or vmq_bridge.ssl.NAME),
// `vmq_bridge.<tcp|ssl>.NAME.<option> = value` and
// `vmq_bridge.<tcp|ssl>.NAME.topic.<id> = pattern [[[in|out|both] qos] local_prefix remote_prefix]`.
// Every problem is reported with the file and line of the key.
import { hostname } from 'node:os'
import { isValidTopicFilter } from '../mqtt/topic.js'
import type { Entry, Problem } from './entry.js'
import { shown } from './shown.js'
import { suggest } from './suggest.js'
import { describeType, parseIpPort, parseValue, unquote, type Value, type ValueType } from './values.js'

export type BridgeTransport = 'tcp' | 'ssl'
export type BridgeDirection = 'in' | 'out' | 'both'

export interface BridgeTopic {
  pattern: string
  direction: BridgeDirection
  qos: 0 | 1 | 2
  /** '' = none; prepended as text (a prefix usually ends with /) */
  localPrefix: string
  remotePrefix: string
}

export interface BridgeConfig {
  name: string
  transport: BridgeTransport
  host: string
  port: number
  clientId: string
  cleanSession: boolean
  keepalive: number
  username: string
  password: string
  /** seconds between a lost or failed connection and the next attempt */
  restartTimeout: number
  tryPrivate: boolean
  /** 3 (3.1), 4 (3.1.1) or 5 */
  mqttVersion: 3 | 4 | 5
  maxOutgoingBuffered: number
  mountpoint: string
  topics: BridgeTopic[]
  cafile: string
  certfile: string
  keyfile: string
  insecure: boolean
  tlsVersion: string
}

interface OptionDef { type: ValueType, default: Value, ssl?: true, path?: true }

const OPTIONS: Record<string, OptionDef> = {
  cleansession: { type: { kind: 'flag' }, default: false },
  client_id: { type: { kind: 'string' }, default: 'auto' },
  keepalive_interval: { type: { kind: 'integer', min: 0, max: 65535 }, default: 60 },
  username: { type: { kind: 'string' }, default: '' },
  password: { type: { kind: 'string' }, default: '' },
  restart_timeout: { type: { kind: 'integer', min: 1, max: 86400 }, default: 10 },
  try_private: { type: { kind: 'flag' }, default: true },
  mqtt_version: { type: { kind: 'integer', min: 3, max: 5 }, default: 3 },
  max_outgoing_buffered_messages: { type: { kind: 'integer', min: 0 }, default: 0 },
  mountpoint: { type: { kind: 'string' }, default: '' },
  cafile: { type: { kind: 'path' }, default: '', ssl: true, path: true },
  certfile: { type: { kind: 'path' }, default: '', ssl: true, path: true },
  keyfile: { type: { kind: 'path' }, default: '', ssl: true, path: true },
  insecure: { type: { kind: 'flag' }, default: false, ssl: true },
  tls_version: { type: { kind: 'enum', values: ['tlsv1.2', 'tlsv1.3'] }, default: 'tlsv1.2', ssl: true }
}

/** VerneMQ options vmq-ts accepts and does not apply (a warning names each one used). */
const UNAPPLIED = ['capath', 'identity', 'psk', 'persistent_queue', 'queue_dir', 'segment_size', 'outgoing_batch_size', 'retry_interval', 'pubrel_queue_ratio', 'inet_version', 'depth']

const KEY = /^vmq_bridge\.(tcp|ssl)\.([^.]+)(?:\.(.+))?$/
const NAME = /^[A-Za-z0-9_-]+$/
const TOPIC_OPTION = /^topic\.(\d{1,3})$/
const DIRECTIONS: readonly string[] = ['in', 'out', 'both']
/** `$empty` (VerneMQ) or `""` stands for no prefix in a topic line */
const EMPTY_PREFIX = ['$empty', '""']

export function isBridgeKey (key: string): boolean {
  return key.startsWith('vmq_bridge.')
}

/** Options holding file paths, resolved against the config file's directory. */
export function isBridgePathKey (key: string): boolean {
  const m = KEY.exec(key)
  return m?.[3] !== undefined && OPTIONS[m[3]]?.path === true
}

interface Draft {
  transport: BridgeTransport
  name: string
  address?: { host: string, port: number }
  options: Map<string, Value>
  topics: Array<{ id: number, topic: BridgeTopic }>
  firstEntry: Entry
}

/** The bridges the entries define, in the order of their first line. */
export function parseBridges (entries: Entry[], problems: Problem[], warnings: string[]): BridgeConfig[] {
  const drafts = new Map<string, Draft>()
  for (const entry of entries) {
    const problem = (message: string): void => { problems.push({ file: entry.file, line: entry.line, key: entry.key, message }) }
    const m = KEY.exec(entry.key)
    if (m === null) {
      problem('expected vmq_bridge.tcp.NAME or vmq_bridge.ssl.NAME, optionally followed by .OPTION')
      continue
    }
    const [, transport, name, option] = m as unknown as [string, BridgeTransport, string, string | undefined]
    if (!NAME.test(name)) {
      problem(`invalid bridge name "${shown(name)}" (letters, digits, _ and - only)`)
      continue
    }
    const id = `${transport}.${name}`
    let draft = drafts.get(id)
    if (draft === undefined) drafts.set(id, draft = { transport, name, options: new Map(), topics: [], firstEntry: entry })
    applyBridgeEntry(draft, entry, option, problem, warnings)
  }
  const bridges: BridgeConfig[] = []
  const names = new Map<string, string>()
  for (const draft of drafts.values()) {
    const where = { file: draft.firstEntry.file, line: draft.firstEntry.line }
    const other = names.get(draft.name)
    if (other !== undefined) {
      problems.push({ ...where, key: draft.firstEntry.key, message: `bridge name "${draft.name}" is also used by vmq_bridge.${other}.${draft.name}; names must be unique` })
      continue
    }
    names.set(draft.name, draft.transport)
    if (draft.address === undefined) {
      problems.push({ ...where, key: draft.firstEntry.key, message: `bridge ${draft.name} has options but no address (vmq_bridge.${draft.transport}.${draft.name} = host:port)` })
      continue
    }
    if (draft.topics.length === 0) warnings.push(`${where.file}:${where.line}: bridge ${draft.name} has no topic lines (vmq_bridge.${draft.transport}.${draft.name}.topic.1 = ...): it connects and forwards nothing`)
    bridges.push(finish(draft, draft.address))
  }
  return bridges
}

function applyBridgeEntry (draft: Draft, entry: Entry, option: string | undefined, problem: (m: string) => void, warnings: string[]): void {
  if (option === undefined) {
    const address = parseIpPort(unquote(entry.value))
    if (address === undefined || address.port === 0) problem(`invalid value "${shown(entry.value)}", expected the remote broker as host:port`)
    else draft.address = address
    return
  }
  const topicId = TOPIC_OPTION.exec(option)
  if (topicId !== null) {
    const parsed = parseTopicLine(unquote(entry.value))
    if (typeof parsed === 'string') problem(`invalid topic line "${shown(entry.value)}": ${parsed}`)
    else draft.topics.push({ id: Number(topicId[1]), topic: parsed })
    return
  }
  if (UNAPPLIED.includes(option)) {
    warnings.push(`${entry.file}:${entry.line}: ${shown(entry.key)} is a VerneMQ bridge option vmq-ts does not use; ignored`)
    return
  }
  const def = OPTIONS[option]
  if (def === undefined || (def.ssl === true && draft.transport === 'tcp')) {
    const known = Object.keys(OPTIONS).filter(k => draft.transport === 'ssl' || OPTIONS[k].ssl !== true)
    const best = suggest(option, [...known, 'topic.1'])
    problem(`unknown bridge option "${shown(option)}"${def !== undefined ? ' (TLS options need vmq_bridge.ssl.NAME)' : best === undefined ? '' : ` (did you mean "${best}"?)`}`)
    return
  }
  const parsed = parseValue(def.type, entry.value)
  if (!parsed.ok) problem(`invalid value "${shown(entry.value)}", expected ${describeType(def.type)}`)
  else draft.options.set(option, parsed.value)
}

/**
 * `pattern [[[in|out|both] qos] local_prefix remote_prefix]`, as in VerneMQ and
 * mosquitto: direction defaults to out, QoS to 0, prefixes to none. Returns
 * what is wrong as text.
 */
export function parseTopicLine (line: string): BridgeTopic | string {
  const words = line.trim().split(/\s+/).filter(w => w !== '')
  if (words.length === 0) return 'expected "pattern [[[in|out|both] qos] local_prefix remote_prefix]"'
  const pattern = words[0].replaceAll('*', '#')
  if (!isValidTopicFilter(pattern)) return `"${shown(pattern)}" is not a valid topic filter`
  let rest = words.slice(1)
  let direction: BridgeDirection = 'out'
  if (rest.length > 0 && DIRECTIONS.includes(rest[0])) {
    direction = rest[0] as BridgeDirection
    rest = rest.slice(1)
  }
  let qos: 0 | 1 | 2 = 0
  if (rest.length > 0 && /^[0-2]$/.test(rest[0])) {
    qos = Number(rest[0]) as 0 | 1 | 2
    rest = rest.slice(1)
  }
  if (rest.length === 0) return { pattern, direction, qos, localPrefix: '', remotePrefix: '' }
  if (rest.length !== 2) {
    if (rest.length === 1 && /^\d+$/.test(rest[0])) return `QoS must be 0, 1 or 2, got "${shown(rest[0])}"`
    if (rest.length === 1 && words.length === 2) return `direction must be in, out or both, got "${shown(rest[0])}"`
    return 'expected "pattern [[[in|out|both] qos] local_prefix remote_prefix]": give both prefixes or none'
  }
  const [localPrefix, remotePrefix] = rest.map(p => EMPTY_PREFIX.includes(p) ? '' : p)
  for (const prefix of [localPrefix, remotePrefix]) {
    if (prefix.includes('+') || prefix.includes('#')) return `prefix "${shown(prefix)}" must not contain wildcards`
  }
  return { pattern, direction, qos, localPrefix, remotePrefix }
}

function finish (draft: Draft, address: { host: string, port: number }): BridgeConfig {
  const opt = <T extends Value>(name: string): T => (draft.options.has(name) ? draft.options.get(name) : OPTIONS[name].default) as T
  const clientId = opt<string>('client_id')
  return {
    name: draft.name,
    transport: draft.transport,
    ...address,
    clientId: clientId === 'auto' ? `${hostname()}.${draft.name}` : clientId,
    cleanSession: opt('cleansession'),
    keepalive: opt('keepalive_interval'),
    username: opt('username'),
    password: opt('password'),
    restartTimeout: opt('restart_timeout'),
    tryPrivate: opt('try_private'),
    mqttVersion: opt('mqtt_version'),
    maxOutgoingBuffered: opt('max_outgoing_buffered_messages'),
    mountpoint: opt('mountpoint'),
    topics: draft.topics.sort((a, b) => a.id - b.id).map(t => t.topic),
    cafile: opt('cafile'),
    certfile: opt('certfile'),
    keyfile: opt('keyfile'),
    insecure: opt('insecure'),
    tlsVersion: opt('tls_version')
  }
}
