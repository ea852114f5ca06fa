// Configuration files the peers are started with.
import { createHash, randomBytes } from 'node:crypto'

/** `persistenceDir`: `persistence true` with its database there (saved at exit and every autosave_interval, 1800 s). */
export function mosquittoConfig (port: number, logFile: string, runningAsRoot: boolean, persistenceDir?: string): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    ...(persistenceDir === undefined ? ['persistence false'] : ['persistence true', `persistence_location ${persistenceDir}/`]),
    `log_dest file ${logFile}`,
    'log_type error',
    'log_type warning',
    // As root, mosquitto would otherwise switch to the 'mosquitto' user and lose the log file.
    ...(runningAsRoot ? ['user root'] : []),
    ''
  ].join('\n')
}

export interface VmqConfigOptions {
  nodename: string
  port: number
  clusterPort: number
  dataDir: string
  secure?: { passwordFile: string, aclFile: string }
  extra?: string[]
}

export function vmqConfig (o: VmqConfigOptions): string {
  const lines = [
    `nodename = ${o.nodename}`,
    `listener.tcp.default = 127.0.0.1:${o.port}`,
    `listener.vmq.clustering = 127.0.0.1:${o.clusterPort}`,
    `persistent_dir = ${o.dataDir}`,
    'log.console.level = warning'
  ]
  if (o.secure === undefined) {
    // The plain peer: anonymous clients, no auth plugins (both are on by default and would
    // want a password file and an ACL file).
    lines.push('allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off')
  } else {
    lines.push(
      'allow_anonymous = off',
      'plugins.vmq_passwd = on',
      `vmq_passwd.password_file = ${o.secure.passwordFile}`,
      'plugins.vmq_acl = on',
      `vmq_acl.acl_file = ${o.secure.aclFile}`
    )
  }
  return [...lines, ...(o.extra ?? []), ''].join('\n')
}

/** One vmq_passwd `$6$` line: base64 salt, base64 sha512(password ‖ salt). */
export function passwordLine (user: string, password: string): string {
  const salt = randomBytes(12)
  const hash = createHash('sha512').update(Buffer.concat([Buffer.from(password), salt])).digest('base64')
  return `${user}:$6$${salt.toString('base64')}$${hash}\n`
}

/** Every user may publish and subscribe to everything (still evaluated on each PUBLISH/SUBSCRIBE). */
export const ALLOW_ALL_ACL = 'topic #\n'
