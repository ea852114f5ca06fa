// The changes vmq-passwd makes to a password file: create, add or update a
// user, delete a user, hash plain-text passwords. Every change is a
// read-modify-write under the file's lock, written atomically. Lines we do not
// touch (comments, blank lines, other users, even malformed lines) are kept as they are.
import { access, constants, readFile, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { writeFileAtomic } from './atomic-write.js'
import { hashPassword, looksHashed } from './hash.js'
import { splitLines, stripCr } from './file.js'
import { withFileLock } from './lock.js'

/** A refusal meant for the operator; the message has no `Error:` prefix. */
export class PasswdError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'PasswdError'
  }
}

const MAX_USERNAME_BYTES = 65535

/** Why `username` cannot go into a password file, or undefined when it can. */
export function usernameProblem (username: string): string | undefined {
  if (username === '') return 'Username must not be empty.'
  if (username.includes(':')) return "Username must not contain the ':' character."
  if (/[\u0000-\u001f\u007f]/.test(username)) return 'Username must not contain control characters.'
  if (username.trimStart().startsWith('#')) return "Username must not start with '#' (the line would be read as a comment)."
  if (Buffer.byteLength(username, 'utf8') > MAX_USERNAME_BYTES) return `Username must not be longer than ${MAX_USERNAME_BYTES} bytes.`
  return undefined
}

export function checkUsername (username: string): void {
  const problem = usernameProblem(username)
  if (problem !== undefined) throw new PasswdError(problem)
}

export async function fileExists (file: string): Promise<boolean> {
  return await stat(file).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false
    throw err
  })
}

/** Fails like vmq-passwd when an existing password file cannot be read and written. */
export async function checkEditable (file: string): Promise<void> {
  try {
    await access(file, constants.R_OK | constants.W_OK)
    const info = await stat(file)
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    // a device or FIFO (/dev/zero) would be read forever
    if (!info.isFile()) throw new Error('Not a regular file')
  } catch (err) {
    throw new PasswdError(`Unable to open password file ${file}. ${describeErrno(err)}.`)
  }
}

/** -c / -cf: a new file holding only `username`. Without `overwrite` an existing file is an error. */
export async function createFile (file: string, username: string, password: string, overwrite: boolean): Promise<void> {
  checkUsername(username)
  const target = await resolveTarget(file)
  await explainWriteErrors(file, async () => await withFileLock(target, async () => {
    if (!overwrite && await fileExists(target)) throw alreadyExists(file)
    await writeFileAtomic(target, `${username}:${hashPassword(password)}\n`)
  }))
}

export function alreadyExists (file: string): PasswdError {
  return new PasswdError(`File ${file} already exists. Please use -cf in case you want to overwrite the file`)
}

/** Adds `username` or replaces its password; the file must exist. */
export async function setUser (file: string, username: string, password: string): Promise<void> {
  checkUsername(username)
  await editExisting(file, text => withUser(text, username, `${username}:${hashPassword(password)}`))
}

/** -D: removes every line of `username`; returns false when there was none. */
export async function deleteUser (file: string, username: string): Promise<boolean> {
  let found = false
  await editExisting(file, text => {
    const result = withoutUser(text, username)
    found = result.found
    return result.found ? result.text : undefined
  })
  return found
}

/** -U: hashes every plain `user:password` line; returns one warning per line left alone. */
export async function hashPlainPasswords (file: string): Promise<string[]> {
  let warnings: string[] = []
  await editExisting(file, text => {
    const result = withPlainPasswordsHashed(text, file)
    warnings = result.warnings
    return result.changed ? result.text : undefined
  })
  return warnings
}

/** `text` with the line of `username` replaced by `newLine` (appended when absent; later duplicates dropped). */
export function withUser (text: string, username: string, newLine: string): string {
  const lines = splitLines(text)
  const eol = lineEnding(lines)
  const out: string[] = []
  let placed = false
  for (const line of lines) {
    if (userOf(line) !== username) out.push(line)
    else if (!placed) { out.push(newLine + (line.endsWith('\r') ? '\r' : '')); placed = true }
  }
  if (!placed) out.push(newLine + (eol === '\r\n' ? '\r' : ''))
  return out.join('\n') + '\n'
}

export function withoutUser (text: string, username: string): { text: string, found: boolean } {
  const lines = splitLines(text)
  const kept = lines.filter(line => userOf(line) !== username)
  return { text: kept.length === 0 ? '' : kept.join('\n') + '\n', found: kept.length !== lines.length }
}

export function withPlainPasswordsHashed (text: string, file: string): { text: string, changed: boolean, warnings: string[] } {
  const warnings: string[] = []
  let changed = false
  const out = splitLines(text).map((raw, i) => {
    const username = userOf(raw)
    if (username === undefined) return raw
    const line = stripCr(raw)
    const password = line.slice(username.length + 1)
    const where = `${file}:${i + 1}`
    if (looksHashed(password)) {
      warnings.push(`Warning: ${where}: password of user ${username} is already hashed; line left unchanged.`)
      return raw
    }
    if (password === '') {
      warnings.push(`Warning: ${where}: user ${username} has an empty password; line left unchanged.`)
      return raw
    }
    changed = true
    return `${username}:${hashPassword(password)}` + (raw.endsWith('\r') ? '\r' : '')
  })
  return { text: out.length === 0 ? '' : out.join('\n') + '\n', changed, warnings }
}

/** The username of a user line; undefined for blank lines, comments and lines without ':'. */
function userOf (raw: string): string | undefined {
  const line = stripCr(raw)
  if (line.trim() === '' || line.trimStart().startsWith('#')) return undefined
  const colon = line.indexOf(':')
  return colon < 0 ? undefined : line.slice(0, colon)
}

function lineEnding (lines: string[]): '\n' | '\r\n' {
  return lines.length > 0 && lines[0].endsWith('\r') ? '\r\n' : '\n'
}

/** Read-modify-write under the lock; `change` returns undefined to leave the file untouched. */
async function editExisting (file: string, change: (text: string) => string | undefined): Promise<void> {
  await checkEditable(file)
  const target = await resolveTarget(file)
  await explainWriteErrors(file, async () => await withFileLock(target, async () => {
    let text: string
    try {
      text = await readFile(target, 'utf8')
    } catch (err) {
      throw new PasswdError(`Unable to open password file ${file}. ${describeErrno(err)}.`)
    }
    const next = change(text)
    if (next !== undefined && next !== text) await writeFileAtomic(target, next)
  }))
}

/** Turns a file-system error while locking or writing into a sentence naming the file. */
async function explainWriteErrors (file: string, write: () => Promise<void>): Promise<void> {
  try {
    await write()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (err instanceof PasswdError || code === undefined) throw err
    const hint = code === 'EACCES' || code === 'EPERM'
      ? ` The directory ${dirname(file)} must be writable: the file is replaced through a temporary file and locked with ${basename(file)}.lock next to it.`
      : ''
    throw new PasswdError(`Unable to write password file ${file}. ${describeErrno(err)}.${hint}`)
  }
}

/** The real file behind `file` (a symlink stays a symlink; we rewrite what it points to). */
async function resolveTarget (file: string): Promise<string> {
  try {
    return await realpath(file)
  } catch {
    return join(await realpath(dirname(file)).catch(() => dirname(file)), basename(file))
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system'
}

export function describeErrno (err: unknown): string {
  const e = err as NodeJS.ErrnoException
  return (e?.code !== undefined ? ERRNO_TEXT[e.code] : undefined) ?? e?.message ?? String(err)
}
