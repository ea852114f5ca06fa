// The command line of vmq-passwd, read positionally as VerneMQ's tool does:
//   [-c | -cf | -D] passwordfile username
//   -U passwordfile
//   passwordfile username
// plus our `--password <pw>` (or `--password=<pw>`) anywhere, for batch use.

export type PasswdAction =
  | { kind: 'create', file: string, username: string, overwrite: boolean }
  | { kind: 'delete', file: string, username: string }
  | { kind: 'hash-plain', file: string }
  | { kind: 'set', file: string, username: string }

export interface PasswdInvocation {
  action: PasswdAction
  /** from --password; undefined means: ask */
  password: string | undefined
}

export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export function usageText (program: string): string {
  return [
    `Usage: ${program} [-c | -cf | -D] passwordfile username`,
    `       ${program} -U passwordfile`,
    `       ${program} passwordfile username`,
    ' -c  : create a new password file; fails if it exists.',
    ' -cf : create a new password file, overwriting an existing one.',
    ' -D  : delete the username instead of adding or updating its password.',
    ' -U  : hash the plain-text passwords of a file (user:password lines).',
    ' without -c/-cf/-D/-U: add the user or change its password; the file must exist.',
    ' --password <password> : do not ask (less safe: visible in the process list and shell history).'
  ].join('\n')
}

export function parsePasswdArgs (argv: readonly string[]): PasswdInvocation {
  const { rest, password } = takePassword(argv)
  const action = actionOf(rest)
  if (password !== undefined && (action.kind === 'delete' || action.kind === 'hash-plain')) {
    throw new UsageError(`Flag --password is only used when creating a file or setting a user's password.`)
  }
  return { action, password }
}

function actionOf (args: string[]): PasswdAction {
  const [first, second, third] = args
  if (args.length === 3) {
    if (first === '-c') return { kind: 'create', file: second, username: third, overwrite: false }
    if (first === '-cf') return { kind: 'create', file: second, username: third, overwrite: true }
    if (first === '-D') return { kind: 'delete', file: second, username: third }
    if (first === '-U') throw new UsageError('Option -U takes only a password file.')
    if (first.startsWith('-')) throw new UsageError(`Unknown option ${first}.`)
    throw new UsageError('Too many arguments.')
  }
  if (args.length === 2) {
    if (first === '-U') return { kind: 'hash-plain', file: second }
    if (first === '-c' || first === '-cf' || first === '-D') throw new UsageError(`Option ${first} needs a password file and a username.`)
    if (first.startsWith('-')) throw new UsageError(`Unknown option ${first}.`)
    return { kind: 'set', file: first, username: second }
  }
  if (args.length > 3) throw new UsageError('Too many arguments.')
  if (first === '-U') throw new UsageError('Option -U needs a password file.')
  throw new UsageError('Missing arguments.')
}

function takePassword (argv: readonly string[]): { rest: string[], password: string | undefined } {
  const rest: string[] = []
  let password: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--password') {
      if (i + 1 >= argv.length) throw new UsageError('Flag --password needs a value.')
      password = argv[++i]
    } else if (arg.startsWith('--password=')) {
      password = arg.slice('--password='.length)
    } else {
      rest.push(arg)
    }
  }
  return { rest, password }
}
