// Whether a store whose write failed can take writes again, checked without a
// restart. After a failed write LevelDB's log is not safe to append to: the
// failed record may be torn, and the log writer counts the lost bytes as
// written, so its later records no longer sit where a replay looks for block
// boundaries. The check therefore makes LevelDB start a new log file:
// compactRange writes the memtable (which holds only writes that succeeded)
// to a table file and drops the old log. It goes only that far once a plain
// file write in the data dir succeeds and the file system has room for the
// table, since a failed table write would stop LevelDB's writes for good.
import { open, readdir, statfs, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Db } from './open-db.js'
import { PROBE_KEY } from './keys.js'

const PROBE_FILE = 'write-probe.tmp'
const PROBE_BYTES = 4096
/** room asked for beyond the memtable's size: the table file's index, the new MANIFEST */
const SPARE_BYTES = 1024 * 1024

/** Resolves when the store takes writes on a new log again; rejects with the reason it does not. */
export async function checkWritable (db: Db, path: string): Promise<void> {
  await writeProbeFile(path)
  const memtable = Number(db.getProperty('leveldb.approximate-memory-usage'))
  const fs = await statfs(path)
  const free = fs.bavail * fs.bsize
  if (free < memtable + SPARE_BYTES) {
    throw new Error(`${free} bytes free in ${path}, ${memtable + SPARE_BYTES} needed`)
  }
  const before = await lastLog(path)
  await db.compactRange(PROBE_KEY, PROBE_KEY)
  const after = await lastLog(path)
  if (after <= before) throw new Error('LevelDB did not start a new log file')
  await db.put(PROBE_KEY, Buffer.alloc(0))
  await db.del(PROBE_KEY)
}

async function writeProbeFile (dir: string): Promise<void> {
  const file = join(dir, PROBE_FILE)
  const handle = await open(file, 'w')
  try {
    await handle.write(Buffer.alloc(PROBE_BYTES))
    await handle.sync()
  } finally {
    await handle.close()
    await unlink(file)
  }
}

/** The number of LevelDB's newest log file (0 when there is none). */
async function lastLog (dir: string): Promise<number> {
  let last = 0
  for (const name of await readdir(dir)) {
    const m = /^(\d+)\.log$/.exec(name)
    if (m !== null) last = Math.max(last, Number(m[1]))
  }
  return last
}
