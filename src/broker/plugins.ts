// The built-in plugins a node runs: started from the plugins.* keys, reconfigured
// live when `vmq-admin set` changes one of their keys, and enabled or disabled
// at runtime with `vmq-admin plugin enable|disable`.
import type { Settings } from '../config/settings.js'
import { InvalidRequest, NotFound } from '../errors.js'
import { AclPlugin } from './auth/acl-plugin.js'
import { PasswdPlugin } from './auth/passwd-plugin.js'
import { RedisAuthPlugin } from './auth/redis-plugin.js'
import type { AuthPlugin } from './auth/types.js'
import type { Bridges } from './bridge/bridges.js'
import type { Logger } from './log.js'
import type { WebhookSpec } from '../config/webhooks.js'
import { WebhooksPlugin } from './webhooks/plugin.js'
import type { EndpointTls, PoolSettings } from './webhooks/http.js'
import { readFileSync } from 'node:fs'
import { WebhookCounters } from './webhooks/counters.js'

type PluginLog = (level: 'info' | 'warn' | 'error' | 'debug', msg: string) => void

function pluginLog (log: Logger, name: string): PluginLog {
  return (level, msg) => { log[level]({ plugin: name }, msg) }
}

/** A started plugin and how to undo what starting it set up besides the plugin itself. */
interface Started { plugin: AuthPlugin, detach: () => void }

/** What plugins other than the auth ones run on. */
export interface PluginContext {
  bridges: Bridges
  /** vmq_webhooks.<NAME>.* of vernemq.conf */
  webhooks: readonly WebhookSpec[]
}

type Factory = (settings: Settings, log: Logger, context: PluginContext & { webhookCounters: WebhookCounters }) => Promise<Started>

/** Reconfigures a plugin whenever one of its `<prefix>.*` keys changes; returns the detach. */
function followSettings (settings: Settings, prefix: string, apply: () => Promise<void>, log: Logger, name: string): () => void {
  return settings.watch({ prefix }, () => {
    settings.track(apply().catch((err: Error) => { log.error({ plugin: name }, err.message) }))
  })
}

async function startPasswd (settings: Settings, log: Logger): Promise<Started> {
  const current = (): { file: string, reloadIntervalSeconds: number } => ({
    file: settings.string('vmq_passwd.password_file'),
    reloadIntervalSeconds: settings.number('vmq_passwd.password_reload_interval')
  })
  const passwd = new PasswdPlugin({ ...current(), log: pluginLog(log, 'vmq_passwd') })
  await passwd.start()
  return { plugin: passwd, detach: followSettings(settings, 'vmq_passwd.', async () => { await passwd.reconfigure(current()) }, log, 'vmq_passwd') }
}

async function startAcl (settings: Settings, log: Logger): Promise<Started> {
  const current = (): { file: string, reloadIntervalSeconds: number } => ({
    file: settings.string('vmq_acl.acl_file'),
    reloadIntervalSeconds: settings.number('vmq_acl.acl_reload_interval')
  })
  const acl = new AclPlugin({ ...current(), topicMaxDepth: settings.number('topic_max_depth'), otherAuthorizers: () => otherAuthorizers(settings), log: pluginLog(log, 'vmq_acl') })
  await acl.start()
  return { plugin: acl, detach: followSettings(settings, 'vmq_acl.', async () => { await acl.reconfigure(current()) }, log, 'vmq_acl') }
}

/** The plugins the node started with that may allow a PUBLISH or SUBSCRIBE vmq_acl does not. */
function otherAuthorizers (settings: Settings): string[] {
  const names: string[] = []
  if (settings.flag('plugins.vmq_diversity') && settings.flag('vmq_diversity.auth_redis.enabled')) names.push('vmq_diversity')
  if (settings.flag('plugins.vmq_webhooks')) names.push('vmq_webhooks')
  return names
}

/**
 * vmq_diversity here is its Redis authentication and authorization
 * (vmq_diversity.auth_redis.*); it has nothing to run when that is off.
 * Its settings are read when it starts (enable it again to apply changes).
 */
async function startRedis (settings: Settings, log: Logger): Promise<Started> {
  if (!settings.flag('vmq_diversity.auth_redis.enabled')) throw new Error('vmq_diversity.auth_redis.enabled = off: nothing to run')
  for (const other of ['vmq_passwd', 'vmq_acl']) {
    if (settings.value(`plugins.${other}`) === true) {
      log.warn({ plugin: 'vmq_diversity' }, `plugins.${other} = on: it is asked before Redis, so what it accepts or allows bypasses Redis (set plugins.${other} = off to use Redis alone)`)
    }
  }
  const redis = new RedisAuthPlugin({
    host: settings.string('vmq_diversity.redis.host'),
    port: settings.number('vmq_diversity.redis.port'),
    password: settings.string('vmq_diversity.redis.password'),
    user: settings.string('vmq_diversity.redis.user'),
    database: settings.number('vmq_diversity.redis.database'),
    log: pluginLog(log, 'vmq_diversity')
  })
  await redis.start()
  return { plugin: redis, detach: () => {} }
}

/** The webhooks of vernemq.conf are registered again each time the plugin starts; runtime ones are lost when it stops. */
async function startWebhooks (settings: Settings, log: Logger, { webhooks, webhookCounters: counters }: PluginContext & { webhookCounters: WebhookCounters }): Promise<Started> {
  const pool = (): PoolSettings => ({
    maxConnections: settings.number('vmq_webhooks.pool_max_connections'),
    idleTimeout: settings.number('vmq_webhooks.pool_timeout'),
    tls: () => webhookTls(settings)
  })
  const plugin = new WebhooksPlugin(webhooks, pool, pluginLog(log, 'vmq_webhooks'), counters)
  const detach = settings.watch({ prefix: 'vmq_webhooks.' }, () => { plugin.resetPools() })
  return await Promise.resolve({ plugin, detach })
}

/** Read when a pool to an https:// endpoint opens; a file that cannot be read fails that endpoint's calls (naming the key). */
function webhookTls (settings: Settings): EndpointTls {
  const file = (key: 'vmq_webhooks.cafile' | 'vmq_webhooks.certfile' | 'vmq_webhooks.keyfile'): Buffer | undefined => {
    const path = settings.string(key)
    if (path === '') return undefined
    try {
      return readFileSync(path)
    } catch (err) {
      throw new Error(`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  return {
    ca: file('vmq_webhooks.cafile'),
    cert: file('vmq_webhooks.certfile'),
    key: file('vmq_webhooks.keyfile'),
    verifyPeer: settings.flag('vmq_webhooks.verify_peer'),
    version: settings.string('vmq_webhooks.tls_version') === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2',
    depth: settings.number('vmq_webhooks.depth')
  }
}

/**
 * vmq_bridge runs the bridges of the config file (vmq_bridge.tcp|ssl.NAME); it
 * takes part in no hook. Its settings are read when the node starts.
 */
async function startBridges (_settings: Settings, log: Logger, { bridges }: PluginContext): Promise<Started> {
  if (bridges.configured === 0) log.warn({ plugin: 'vmq_bridge' }, 'plugins.vmq_bridge = on but no bridge is configured (vmq_bridge.tcp.NAME = host:port)')
  await bridges.start()
  const plugin: AuthPlugin = { name: 'vmq_bridge', hooks: [], close: async () => { await bridges.stop() } }
  return { plugin, detach: () => {} }
}

/** The plugins an operator may name, in chain order (VerneMQ's: passwd, then acl, then diversity, then webhooks); vmq_bridge takes part in no hook. */
const FACTORIES: ReadonlyArray<[string, Factory]> = [
  ['vmq_passwd', startPasswd],
  ['vmq_acl', startAcl],
  ['vmq_diversity', startRedis],
  ['vmq_webhooks', startWebhooks],
  ['vmq_bridge', startBridges]
]

export const PLUGIN_NAMES: readonly string[] = FACTORIES.map(([name]) => name)

export class PluginError extends InvalidRequest {}

export class Plugins {
  private readonly started = new Map<string, Started>()
  private list: AuthPlugin[] = []
  private pending: Promise<void> = Promise.resolve()

  /** what the webhooks plugin counted (kept across disable and enable), for /metrics */
  readonly webhookCounters = new WebhookCounters()

  constructor (private readonly settings: Settings, private readonly log: Logger, private readonly context: PluginContext) {}

  /** The running webhooks plugin, if enabled. */
  webhooksPlugin (): WebhooksPlugin | undefined {
    const started = this.started.get('vmq_webhooks')?.plugin
    return started instanceof WebhooksPlugin ? started : undefined
  }

  /** The running plugins in chain order. */
  running (): readonly AuthPlugin[] {
    return this.list
  }

  /** Starts the plugins whose plugins.<name> key is on (vmq_diversity: when it has something to run). */
  async startConfigured (): Promise<void> {
    const redisAuth = this.settings.flag('vmq_diversity.auth_redis.enabled')
    if (redisAuth && !this.settings.flag('plugins.vmq_diversity')) {
      this.log.warn({ plugin: 'vmq_diversity' }, 'vmq_diversity.auth_redis.enabled = on has no effect while plugins.vmq_diversity = off')
    }
    if (this.context.bridges.configured > 0 && !this.settings.flag('plugins.vmq_bridge')) {
      this.log.warn({ plugin: 'vmq_bridge' }, 'bridges are configured (vmq_bridge.*) but plugins.vmq_bridge = off: they do not run')
    }
    for (const [name, factory] of FACTORIES) {
      if (this.settings.value(`plugins.${name}`) !== true || (name === 'vmq_diversity' && !redisAuth)) continue
      await this.start(name, factory)
    }
  }

  /** Starts a plugin with the current settings and puts it into the chain. */
  async enable (name: string): Promise<void> {
    await this.serially(async () => { await this.enableNow(name) })
  }

  /** Takes a plugin out of the chain and stops it. */
  async disable (name: string): Promise<void> {
    await this.serially(async () => { await this.disableNow(name) })
  }

  private async enableNow (name: string): Promise<void> {
    const factory = this.factory(name)
    if (this.started.has(name)) throw new PluginError(`Can't enable plugin: ${name} due to already_enabled`)
    try {
      await this.start(name, factory)
    } catch (err) {
      throw new PluginError(`Can't enable plugin: ${name} due to ${(err as Error).message}`)
    }
    this.log.info({ plugin: name }, 'plugin enabled')
  }

  private async disableNow (name: string): Promise<void> {
    this.factory(name)
    const started = this.started.get(name)
    if (started === undefined) throw new PluginError(`Can't disable plugin: ${name} due to not_enabled`)
    this.started.delete(name)
    this.reorder()
    started.detach()
    await started.plugin.close?.()
    this.log.info({ plugin: name }, 'plugin disabled')
    if (!this.list.some(p => p.authOnPublish !== undefined || p.authOnSubscribe !== undefined || p.authorizes?.() === true)) {
      this.log.warn('no authorization plugin is enabled: every client may publish and subscribe to every topic')
    }
  }

  /** Enable and disable run one at a time, so two calls cannot start a plugin twice. */
  private serially (step: () => Promise<void>): Promise<void> {
    const run = this.pending.then(step)
    this.pending = run.catch(() => {})
    return run
  }

  async closeAll (): Promise<void> {
    const all = [...this.started.values()]
    this.started.clear()
    this.reorder()
    await Promise.allSettled(all.map(async s => { s.detach(); await s.plugin.close?.() }))
  }

  private factory (name: string): Factory {
    const entry = FACTORIES.find(([n]) => n === name)
    if (entry === undefined) throw new NotFound(`Unknown plugin "${name}"; known plugins: ${PLUGIN_NAMES.join(', ')}`)
    return entry[1]
  }

  private async start (name: string, factory: Factory): Promise<void> {
    this.started.set(name, await factory(this.settings, this.log, { ...this.context, webhookCounters: this.webhookCounters }))
    this.reorder()
  }

  private reorder (): void {
    this.list = FACTORIES.flatMap(([name]) => {
      const s = this.started.get(name)
      return s === undefined ? [] : [s.plugin]
    })
  }
}
