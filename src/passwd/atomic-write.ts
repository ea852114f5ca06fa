// Replaces a file all at once: readers (the broker reloading) see either the
// old or the new content, never half a file. The new content goes into a temp
// file in the same directory, is fsynced, then renamed over the original.
import { chmod, chown, open, rename, stat, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'

/** Mode of a password file we create (only the owner may read the hashes). */
export const NEW_FILE_MODE = 0o600

/** Writes `text` to `file` atomically, keeping the mode (and, if allowed, owner) of an existing file. */
export async function writeFileAtomic (file: string, text: string): Promise<void> {
  const existing = await stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', NEW_FILE_MODE)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
    await handle.close()
    if (existing !== undefined) await keepOwnerAndMode(temp, existing.mode, existing.uid, existing.gid)
    else await chmod(temp, NEW_FILE_MODE)
    await rename(temp, file)
  } catch (err) {
    await handle.close().catch(() => {})
    await unlink(temp).catch(() => {})
    throw err
  }
  await syncDirectory(dirname(file))
}

async function keepOwnerAndMode (temp: string, mode: number, uid: number, gid: number): Promise<void> {
  const mine = await stat(temp)
  if (mine.uid !== uid || mine.gid !== gid) {
    // Only root (or the owner changing group) may do this; otherwise the file
    // becomes ours, as with any editor that saves by rename.
    await chown(temp, uid, gid).catch(() => {})
  }
  await chmod(temp, mode & 0o7777)
}

async function syncDirectory (dir: string): Promise<void> {
  // Makes the rename itself durable; not possible on every platform, so best effort.
  const handle = await open(dir, 'r').catch(() => undefined)
  if (handle === undefined) return
  await handle.sync().catch(() => {})
  await handle.close().catch(() => {})
}
