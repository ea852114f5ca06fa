// One measuring run per machine: two at once would measure each other.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const LOCK_FILE = join(tmpdir(), 'vmq-bench.lock')

/** Takes the machine-wide bench lock; returns a message naming the holder when another live run has it. */
export function takeLock (): string | null {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(LOCK_FILE, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      process.once('exit', releaseLock)
      return null
    } catch {
      const holder = Number(readFileSync(LOCK_FILE, { encoding: 'utf8', flag: 'a+' }).trim())
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        return `another bench run (pid ${holder}) is measuring on this machine; two at once would disturb each other (wait for it, or remove ${LOCK_FILE} if it is stale)`
      }
      try { unlinkSync(LOCK_FILE) } catch {}
    }
  }
  return `cannot take ${LOCK_FILE}`
}

function releaseLock (): void {
  try {
    if (readFileSync(LOCK_FILE, 'utf8').trim() === String(process.pid)) unlinkSync(LOCK_FILE)
  } catch {}
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
