// The built-in plugins a node runs, from the plugins.* keys, and their live
// reconfiguration when `vmq-admin set` changes one of their keys.
import type { Settings } from '../config/settings.js'
import { AclPlugin } from './auth/acl-plugin.js'
import { PasswdPlugin } from './auth/passwd-plugin.js'
import { RedisAuthPlugin } from './auth/redis-plugin.js'
import type { AuthPlugin } from './auth/types.js'
import type { Logger } from './log.js'

type PluginLog = (level: 'info' | 'warn' | 'error' | 'debug', msg: string) => void

function pluginLog (log: Logger, name: string): PluginLog {
  return (level, msg) => { log[level]({ plugin: name }, msg) }
}

/** Starts the enabled plugins in VerneMQ's order (passwd, acl, then diversity's Redis auth). */
export async function startPlugins (settings: Settings, log: Logger): Promise<AuthPlugin[]> {
  const plugins: AuthPlugin[] = []
  if (settings.flag('plugins.vmq_passwd')) {
    const passwd = new PasswdPlugin({
      file: settings.string('vmq_passwd.password_file'),
      reloadIntervalSeconds: settings.number('vmq_passwd.password_reload_interval'),
      log: pluginLog(log, 'vmq_passwd')
    })
    await passwd.start()
    settings.on('change', (key: string) => {
      if (!key.startsWith('vmq_passwd.')) return
      passwd.reconfigure({ file: settings.string('vmq_passwd.password_file'), reloadIntervalSeconds: settings.number('vmq_passwd.password_reload_interval') })
        .catch((err: Error) => { log.error({ plugin: 'vmq_passwd' }, err.message) })
    })
    plugins.push(passwd)
  }
  if (settings.flag('plugins.vmq_acl')) {
    const acl = new AclPlugin({
      file: settings.string('vmq_acl.acl_file'),
      reloadIntervalSeconds: settings.number('vmq_acl.acl_reload_interval'),
      topicMaxDepth: settings.number('topic_max_depth'),
      log: pluginLog(log, 'vmq_acl')
    })
    await acl.start()
    settings.on('change', (key: string) => {
      if (!key.startsWith('vmq_acl.')) return
      acl.reconfigure({ file: settings.string('vmq_acl.acl_file'), reloadIntervalSeconds: settings.number('vmq_acl.acl_reload_interval') })
        .catch((err: Error) => { log.error({ plugin: 'vmq_acl' }, err.message) })
    })
    plugins.push(acl)
  }
  const redis = await startRedisAuth(settings, log)
  if (redis !== undefined) plugins.push(redis)
  return plugins
}

async function startRedisAuth (settings: Settings, log: Logger): Promise<RedisAuthPlugin | undefined> {
  const enabled = settings.flag('vmq_diversity.auth_redis.enabled')
  if (!settings.flag('plugins.vmq_diversity')) {
    if (enabled) log.warn({ plugin: 'vmq_diversity' }, 'vmq_diversity.auth_redis.enabled = on has no effect while plugins.vmq_diversity = off')
    return undefined
  }
  if (!enabled) return undefined
  const redis = new RedisAuthPlugin({
    host: settings.string('vmq_diversity.redis.host'),
    port: settings.number('vmq_diversity.redis.port'),
    password: settings.string('vmq_diversity.redis.password'),
    user: settings.string('vmq_diversity.redis.user'),
    database: settings.number('vmq_diversity.redis.database'),
    log: pluginLog(log, 'vmq_diversity')
  })
  for (const other of ['vmq_passwd', 'vmq_acl']) {
    if (settings.flag(`plugins.${other}`)) {
      log.warn({ plugin: 'vmq_diversity' }, `plugins.${other} = on: it is asked before Redis, so what it accepts or allows bypasses Redis (set plugins.${other} = off to use Redis alone)`)
    }
  }
  await redis.start()
  return redis
}
