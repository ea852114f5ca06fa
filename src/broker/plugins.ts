// The built-in plugins a node runs, from the plugins.* keys, and their live
// reconfiguration when `vmq-admin set` changes one of their keys.
import type { Settings } from '../config/settings.js'
import { AclPlugin } from './auth/acl-plugin.js'
import { PasswdPlugin } from './auth/passwd-plugin.js'
import type { AuthPlugin } from './auth/types.js'
import type { Logger } from './log.js'

type PluginLog = (level: 'info' | 'warn' | 'error' | 'debug', msg: string) => void

function pluginLog (log: Logger, name: string): PluginLog {
  return (level, msg) => { log[level]({ plugin: name }, msg) }
}

/** Starts the enabled plugins in VerneMQ's order (passwd, then acl). */
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
  return plugins
}
