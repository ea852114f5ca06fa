// vmq_acl: grants publish (write) and subscribe (read) from the ACL file.
// A check allows when a rule of the "all" section matches, else a rule of the
// client's `user` section, else a `pattern` rule after substitution; otherwise
// it answers `next` so later plugins may still allow. It never refuses.
//
// Checks run on every PUBLISH, so each rule set is a tree of levels (AclIndex)
// and a check allocates almost nothing. There is no per-(client, topic)
// decision cache: bench/acl-check.ts showed it slower for the default
// `topic #` file and for topics not seen before, and at best ~1.5-2x faster on
// repeated topics against a large file (numbers in the commit message).

import { MAX_TABLE_BYTES, readBounded } from '../../config/bounded-read.js'
import type { AccessVerdict, AuthPlugin, ClientInfo, PublishRequest, SubscribeRequest } from './types.js'
import { formatProblem } from './types.js'
import { type AclRules, type Rules, emptyRules, parseAcl, ruleCount } from './acl-file.js'
import { AclIndex } from './acl-index.js'

export type LogLevel = 'info' | 'warn' | 'error' | 'debug'

export interface AclPluginOptions {
  /** vmq_acl.acl_file */
  file: string
  /** vmq_acl.acl_reload_interval; 0 turns periodic reload off */
  reloadIntervalSeconds: number
  log: (level: LogLevel, msg: string) => void
  /** topic_max_depth (default 10): deeper filters in the file are refused */
  topicMaxDepth?: number
  /** the other enabled plugins that may still allow what this one does not (vmq_diversity, vmq_webhooks) */
  otherAuthorizers?: () => readonly string[]
}

export type Access = 'read' | 'write'

type Indexed = Record<Access, AclIndex>

interface CompiledAcl {
  all: Indexed
  users: Map<string, Indexed>
  patterns: Indexed
  size: number
}

function indexed (rules: Rules, withPlaceholders = false): Indexed {
  return { read: new AclIndex(rules.read, withPlaceholders), write: new AclIndex(rules.write, withPlaceholders) }
}

const EMPTY: CompiledAcl = compile({ all: emptyRules(), users: new Map(), patterns: emptyRules(), problems: [] })

export const ACL_HOOKS = [
  'auth_on_publish',
  'auth_on_subscribe',
  'auth_on_publish_m5',
  'auth_on_subscribe_m5',
  'change_config'
] as const

export class AclPlugin implements AuthPlugin {
  readonly name = 'vmq_acl'
  readonly hooks: readonly string[] = ACL_HOOKS

  private file: string
  private intervalSeconds: number
  private readonly log: AclPluginOptions['log']
  private readonly maxDepth: number
  private readonly otherAuthorizers: () => readonly string[]
  /** the next load is the first of this file (start, reconfigure): a failure says what it means for clients */
  private firstLoad = true
  private acl: CompiledAcl = EMPTY
  private lastLoaded: { file: string, content: Buffer } | undefined
  private timer: NodeJS.Timeout | undefined
  private loading: Promise<void> = Promise.resolve()
  private busy = false
  /** the rules in force came from a file without bad lines */
  private clean = false
  private closed = false

  constructor (options: AclPluginOptions) {
    this.file = options.file
    this.intervalSeconds = options.reloadIntervalSeconds
    this.log = options.log
    this.maxDepth = options.topicMaxDepth ?? 10
    this.otherAuthorizers = options.otherAuthorizers ?? (() => [])
  }

  /** Loads the file, then re-reads it every reloadIntervalSeconds (unless 0). */
  async start (): Promise<void> {
    this.closed = false
    this.firstLoad = true
    await this.reload()
    this.schedule()
  }

  /** change_config: takes the new settings and reloads at once. */
  async reconfigure (changes: { file?: string, reloadIntervalSeconds?: number }): Promise<void> {
    if (changes.file !== undefined) this.file = changes.file
    if (changes.reloadIntervalSeconds !== undefined) this.intervalSeconds = changes.reloadIntervalSeconds
    this.lastLoaded = undefined
    this.firstLoad = true
    await this.reload()
    this.schedule()
  }

  /**
   * Re-reads the file; the new rules apply to the very next check. A missing
   * or unreadable file is logged and the rules already loaded stay in force;
   * so they do when a file with bad lines would replace rules loaded from a
   * file without any (the first load, or one after a load that had bad lines
   * too, takes the good lines).
   * Reloads never overlap: each waits for the one before.
   */
  reload (): Promise<void> {
    this.loading = this.loading.then(async () => {
      this.busy = true
      try {
        await this.loadOnce()
      } catch (err) {
        this.log('error', `can't load ACL file ${this.file}: ${String(err)}; keeping the rules loaded before`)
      } finally {
        this.busy = false
      }
    })
    return this.loading
  }

  close (): void {
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  authOnPublish (client: ClientInfo, req: PublishRequest): AccessVerdict {
    return this.allows('write', client, req.topic) ? 'ok' : 'next'
  }

  /** One filter; the caller makes a SUBSCRIBE all-or-nothing as VerneMQ does. */
  authOnSubscribe (client: ClientInfo, req: SubscribeRequest): AccessVerdict {
    return this.allows('read', client, req.topic) ? 'ok' : 'next'
  }

  /** For `session reauthorize`: the filters this ACL no longer lets the client subscribe to. */
  revokedSubscriptions (client: ClientInfo, filters: readonly string[]): string[] {
    return filters.filter(f => !this.allows('read', client, f))
  }

  /** The decision of §4.3; `topic` is a topic name or a filter, `$share/<g>/` prefix included. */
  allows (access: Access, client: ClientInfo, topic: string): boolean {
    if (topic.length === 0) return false
    const acl = this.acl
    if (acl.all[access].covers(topic)) return true
    if (client.username !== undefined) {
      const own = acl.users.get(client.username)
      if (own !== undefined && own[access].covers(topic)) return true
    }
    const patterns = acl.patterns[access]
    if (patterns.size === 0) return false
    return patterns.covers(topic, { u: client.username, c: client.clientId, m: client.mountpoint })
  }

  private async loadOnce (): Promise<void> {
    const file = this.file
    const first = this.firstLoad
    this.firstLoad = false
    let content: Buffer
    try {
      content = await readBounded(file, MAX_TABLE_BYTES)
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException)?.code === 'ENOENT'
      const outcome = first && this.acl.size === 0
        ? this.refusesAll(missing ? 'until it exists' : 'until it can be read')
        : `keeping the ${this.acl.size} rules loaded before`
      this.log('error', `can't load ACL file ${file}: ${fsReason(err)}; ${outcome}`)
      return
    }
    const last = this.lastLoaded
    if (last !== undefined && last.file === file && last.content.equals(content)) return
    const parsed = parseAcl(content, file, { maxDepth: this.maxDepth })
    this.lastLoaded = { file, content }
    if (parsed.problems.length > 0 && this.clean) {
      for (const p of parsed.problems) this.log('warn', formatProblem(p))
      this.log('error', `ACL file ${file} has ${parsed.problems.length} bad ${parsed.problems.length === 1 ? 'line' : 'lines'}; ` +
        `keeping the ${this.acl.size} rules loaded before until it is fixed`)
      return
    }
    for (const p of parsed.problems) this.log('warn', `${formatProblem(p)} (line skipped)`)
    this.acl = compile(parsed)
    this.clean = parsed.problems.length === 0
    const loaded = `loaded ACL file ${file}: ${this.acl.size} rules` + (parsed.problems.length > 0 ? `, ${parsed.problems.length} lines skipped` : '')
    if (this.acl.size === 0) this.log('warn', `${loaded}; ${this.refusesAll('until it has some')}`)
    else this.log('info', loaded)
  }

  /**
   * What no rules mean: this plugin allows nothing, and the chain refuses what
   * no plugin allows (with vmq_acl off and no other authorization plugin,
   * everything is allowed instead).
   */
  private refusesAll (until: string): string {
    const others = this.otherAuthorizers()
    const refused = others.length === 0 ? 'every PUBLISH and SUBSCRIBE' : `every PUBLISH and SUBSCRIBE that ${others.join(' or ')} does not allow`
    return `no ACL rules: ${refused} will be refused ${until} (or set plugins.vmq_acl = off)`
  }

  private schedule (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    if (this.closed || !(this.intervalSeconds > 0)) return
    this.timer = setInterval(() => {
      if (!this.busy) void this.reload()
    }, this.intervalSeconds * 1000)
    this.timer.unref()
  }
}

function compile (parsed: AclRules): CompiledAcl {
  const users = new Map<string, Indexed>()
  for (const [name, rules] of parsed.users) users.set(name, indexed(rules))
  return { all: indexed(parsed.all), users, patterns: indexed(parsed.patterns, true), size: ruleCount(parsed) }
}

function fsReason (err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'it is a directory'
  return err instanceof Error ? err.message : String(err)
}
