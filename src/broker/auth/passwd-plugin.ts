// vmq_passwd: accepts or refuses CONNECT by the password file.
//   no username or no password → next;  unknown user → next;
//   password matches → ok;              mismatch → refuse (CONNACK 4, v5 0x86)
// The whole file is re-read at start, every `reloadIntervalSeconds` (0 = never)
// and on reconfigure; the new table replaces the old one, so deletions apply.
// If the file cannot be read, the users loaded before stay active, and so they
// do when a file with bad lines would replace users loaded from a file without
// any (a half-written or mangled file does not lock users out); the first load,
// or one after a load that had bad lines too, takes the good lines.
import { MAX_TABLE_BYTES, readBounded } from '../../config/bounded-read.js'
import { parsePasswordBufferInSlices } from '../../passwd/file.js'
import { verifyHashText } from '../../passwd/hash.js'
import { formatProblem, type AuthPlugin, type ClientInfo, type RegisterVerdict } from './types.js'

export type LogLevel = 'info' | 'warn' | 'error' | 'debug'

export interface PasswdPluginOptions {
  file: string
  reloadIntervalSeconds: number
  log: (level: LogLevel, msg: string) => void
}

export interface PasswdPluginSettings {
  file?: string
  reloadIntervalSeconds?: number
}

/** Problems of one load listed in the log before they are summarised. */
const MAX_PROBLEMS_LOGGED = 20

export class PasswdPlugin implements AuthPlugin {
  readonly name = 'vmq_passwd'
  readonly hooks = ['auth_on_register', 'auth_on_register_m5', 'change_config'] as const

  private fileName: string
  private intervalSeconds: number
  private readonly log: PasswdPluginOptions['log']
  private users = new Map<string, string>()
  private loads: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private running = false
  /** what was last logged about an unreadable file / bad lines, so a reload does not repeat it */
  private lastReadFailure: string | undefined
  private lastProblems = ''
  /** the users in force came from a file without bad lines */
  private clean = false

  constructor (options: PasswdPluginOptions) {
    this.fileName = checkFile(options.file)
    this.intervalSeconds = checkInterval(options.reloadIntervalSeconds)
    this.log = options.log
  }

  get file (): string { return this.fileName }
  get reloadIntervalSeconds (): number { return this.intervalSeconds }
  get userCount (): number { return this.users.size }

  /** Loads the file and starts the periodic reload. */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    await this.reload('info')
    this.schedule()
  }

  /** Switches file and/or interval (`vmq-admin set vmq_passwd.…`) and reloads at once. */
  async reconfigure (settings: PasswdPluginSettings): Promise<void> {
    const file = settings.file === undefined ? this.fileName : checkFile(settings.file)
    const interval = settings.reloadIntervalSeconds === undefined ? this.intervalSeconds : checkInterval(settings.reloadIntervalSeconds)
    if (file !== this.fileName) this.lastReadFailure = undefined
    this.fileName = file
    this.intervalSeconds = interval
    await this.reload('info')
    this.schedule()
  }

  /** Re-reads the file now; loads never overlap (a second request waits for the first). */
  async reload (level: LogLevel = 'debug'): Promise<void> {
    const load = this.loads.then(async () => await this.loadOnce(level))
    this.loads = load.catch(() => {})
    await load
  }

  authOnRegister = async (client: ClientInfo, password: Buffer | undefined): Promise<RegisterVerdict> => {
    if (client.username === undefined || password === undefined) return { kind: 'next' }
    const stored = this.users.get(client.username)
    if (stored === undefined) return { kind: 'next' }
    if (await verifyHashText(stored, password)) return { kind: 'ok' }
    return { kind: 'refuse', code: 4, reason: 'invalid_credentials' }
  }

  close (): void {
    this.running = false
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (!this.running || this.intervalSeconds === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.reload().catch(err => this.log('error', `vmq_passwd: reload of ${this.fileName} failed: ${(err as Error).message}`))
        .finally(() => this.schedule())
    }, this.intervalSeconds * 1000)
    this.timer.unref()
  }

  private async loadOnce (level: LogLevel): Promise<void> {
    const file = this.fileName
    let data: Buffer
    try {
      data = await readBounded(file, MAX_TABLE_BYTES)
    } catch (err) {
      this.readFailed(file, err as NodeJS.ErrnoException)
      return
    }
    if (this.lastReadFailure !== undefined) level = 'info'
    this.lastReadFailure = undefined
    const table = await parsePasswordBufferInSlices(data, file)
    if (file !== this.fileName) return // reconfigured meanwhile; the next load reads the new file
    if (table.problems.length > 0 && this.clean) {
      this.logProblems([...table.problems.map(formatProblem),
        `${file} has ${lines(table.problems.length)} bad; keeping the ${users(this.users.size)} loaded before until it is fixed`])
      return
    }
    this.users = table.users
    this.clean = table.problems.length === 0
    this.logProblems([...table.problems.map(p => `${formatProblem(p)} (line skipped)`), ...table.repeated.map(formatProblem)])
    this.log(level, `vmq_passwd: loaded ${users(table.users.size)} from ${file}`)
  }

  private readFailed (file: string, err: NodeJS.ErrnoException): void {
    const reason = err.code === 'ENOENT' ? 'not found' : `cannot be read (${err.code ?? err.message})`
    if (this.lastReadFailure === reason) return
    this.lastReadFailure = reason
    const keeping = this.users.size === 0 ? 'no users loaded' : `keeping the ${users(this.users.size)} loaded before`
    this.log('warn', `vmq_passwd: password file ${file} ${reason}; ${keeping}`)
  }

  private logProblems (problems: string[]): void {
    const summary = problems.join('\n')
    if (summary === this.lastProblems) return
    this.lastProblems = summary
    for (const problem of problems.slice(0, MAX_PROBLEMS_LOGGED)) this.log('warn', `vmq_passwd: ${problem}`)
    if (problems.length > MAX_PROBLEMS_LOGGED) {
      this.log('warn', `vmq_passwd: ${problems.length - MAX_PROBLEMS_LOGGED} more bad or repeated lines`)
    }
  }
}

function users (n: number): string {
  return n === 1 ? '1 user' : `${n} users`
}

function lines (n: number): string {
  return n === 1 ? '1 line' : `${n} lines`
}

function checkFile (file: string): string {
  if (typeof file !== 'string' || file === '') throw new Error('vmq_passwd.password_file must be a file path')
  return file
}

function checkInterval (seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new Error(`vmq_passwd.password_reload_interval must be a whole number of seconds ≥ 0, got ${String(seconds)}`)
  }
  return seconds
}
