// A lock file next to the password file (`<file>.lock`), so that concurrent
// vmq-passwd runs do their read-modify-write one after the other. Created with
// O_EXCL; a lock older than `staleMs` is left over from a crashed run and is broken.
import { link, open, rename, stat, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

export interface LockOptions {
  /** give up after this long (default 10 s) */
  timeoutMs?: number
  /** a lock file older than this is considered abandoned (default 30 s) */
  staleMs?: number
}

export class LockTimeoutError extends Error {
  constructor (readonly lockFile: string) {
    super(`Password file is locked by another process (lock file ${lockFile}). If no vmq-passwd is running, remove the lock file.`)
    this.name = 'LockTimeoutError'
  }
}

export function lockFileFor (file: string): string {
  return `${file}.lock`
}

/** Runs `fn` while holding the lock of `file`. */
export async function withFileLock<T> (file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockFile = lockFileFor(file)
  await acquire(lockFile, options.timeoutMs ?? 10_000, options.staleMs ?? 30_000)
  try {
    return await fn()
  } finally {
    await unlink(lockFile).catch(() => {})
  }
}

async function acquire (lockFile: string, timeoutMs: number, staleMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(lockFile)) return
    await breakIfStale(lockFile, staleMs)
    if (Date.now() >= deadline) throw new LockTimeoutError(lockFile)
    await sleep(Math.min(5 + attempt * 5, 50) * (0.5 + Math.random()))
  }
}

async function tryCreate (lockFile: string): Promise<boolean> {
  try {
    const handle = await open(lockFile, 'wx', 0o600)
    await handle.writeFile(`${process.pid}\n`)
    await handle.close()
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/**
 * Moves an old lock aside and deletes it. If another process replaced the
 * lock between our stat and our rename, the fresh lock is put back.
 */
async function breakIfStale (lockFile: string, staleMs: number): Promise<void> {
  const seen = await stat(lockFile).catch(() => undefined)
  if (seen === undefined || Date.now() - seen.mtimeMs < staleMs) return
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await rename(lockFile, aside)
  } catch {
    return
  }
  const moved = await stat(aside).catch(() => undefined)
  if (moved !== undefined && moved.ino !== seen.ino) await link(aside, lockFile).catch(() => {})
  await unlink(aside).catch(() => {})
}
