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
import { PROBE_KEY } from './keys.js'
import type { StoreIo } from './store-io.js'
import type { DiskKeys, StoreLogLevel } from './store-types.js'
import type { WriteOp } from './write-batcher.js'

const PROBE_FILE = 'write-probe.tmp'
const PROBE_BYTES = 4096
/** room asked for beyond the memtable's size: the table file's index, the new MANIFEST */
const SPARE_BYTES = 1024 * 1024
/** how often a store that takes no writes checks whether it can again */
export const WRITE_CHECK_INTERVAL_MS = 5000

/** The store whose writes are checked. */
export interface CheckedStore {
  readonly path: string
  readonly io: StoreIo
  readonly log: (level: StoreLogLevel, msg: string) => void
  closed: () => boolean
  /** What to write or delete so the disk holds what memory does (memory forgets what the disk never got). */
  alignWithMemory: (disk: DiskKeys) => WriteOp[]
}

/** Checks every WRITE_CHECK_INTERVAL_MS, once a write failed, whether the store takes writes again. */
export class WriteChecks {
  readonly #store: CheckedStore
  #timer: NodeJS.Timeout | undefined
  #checking = false

  constructor (store: CheckedStore) {
    this.#store = store
  }

  start (): void {
    if (this.#timer !== undefined || this.#store.closed()) return
    this.#timer = setInterval(() => { void this.#check() }, WRITE_CHECK_INTERVAL_MS)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  /**
   * Ends the no-writes state once the data dir takes writes again. Writes
   * refused meanwhile changed memory but not the disk (a subscription added,
   * a message acknowledged), so the disk is brought in line with memory first.
   */
  async #check (): Promise<void> {
    const store = this.#store
    if (this.#checking || store.closed()) return
    this.#checking = true
    try {
      await checkWritable(store.io, store.path)
      const onDisk = await this.#storedKeys()
      if (store.closed()) return
      clearInterval(this.#timer)
      this.#timer = undefined
      const ops = store.alignWithMemory(onDisk)
      store.io.batcher.resume()
      store.log('info', `store ${store.path}: a test write succeeded; the store takes writes and new persistent sessions again ` +
        `(records brought in line with memory: ${ops.length})`)
      // a failure is logged by the batcher and starts the checks again
      store.io.write(ops).catch(() => undefined)
    } catch (err) {
      store.log('debug', `store ${store.path}: still takes no writes: ${(err as Error).message}`)
    } finally {
      this.#checking = false
    }
  }

  /** The keys of what memory indexes, and the stored subscriptions' values. */
  async #storedKeys (): Promise<DiskKeys> {
    const io = this.#store.io
    const keys = new Set<string>()
    const subscriptions = new Map<string, Buffer>()
    await io.scan('s', true, (key, value) => { subscriptions.set(key, value as Buffer) })
    for (const kind of ['p', 'o', 'i', 'r', 'w']) await io.scan(kind, false, key => { keys.add(key) })
    return { keys, subscriptions }
  }
}

/**
 * Resolves when the store takes writes on a new log again; rejects with the
 * reason it does not. A LevelDB that failed a background write does nothing on
 * compactRange: it is opened again, which also starts a new log.
 */
export async function checkWritable (io: Pick<StoreIo, 'db' | 'reopen'>, path: string): Promise<void> {
  await writeProbeFile(path)
  const db = io.db
  // an earlier reopen that could not open it again
  if (db.status === 'closed') await io.reopen()
  const memtable = Number(db.getProperty('leveldb.approximate-memory-usage'))
  const fs = await statfs(path)
  const free = fs.bavail * fs.bsize
  if (free < memtable + SPARE_BYTES) {
    throw new Error(`${free} bytes free in ${path}, ${memtable + SPARE_BYTES} needed`)
  }
  const before = await lastLog(path)
  await db.compactRange(PROBE_KEY, PROBE_KEY)
  let after = await lastLog(path)
  if (after <= before) {
    await io.reopen()
    after = await lastLog(path)
  }
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
