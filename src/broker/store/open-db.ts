// Opens the LevelDB data dir and turns LevelDB's failures into errors an
// operator can act on, naming the directory.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { FORMAT_KEY, FORMAT_VERSION, OLDER_FORMATS } from './keys.js'

export type StoreErrorCode = 'STORE_LOCKED' | 'STORE_CORRUPT' | 'STORE_OPEN_FAILED'

export class StoreError extends Error {
  constructor (message: string, readonly code: StoreErrorCode, readonly path: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreError'
  }
}

export type Db = ClassicLevel<string, Buffer>

export async function openDatabase (path: string): Promise<Db> {
  prepareDirectory(path)
  const db = new ClassicLevel<string, Buffer>(path, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (err) {
    throw openFailure(path, err)
  }
  try {
    await checkFormat(db, path)
  } catch (err) {
    await db.close()
    throw err
  }
  return db
}

function prepareDirectory (path: string): void {
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) {
      throw new StoreError(`data dir ${path} cannot be opened: it is not a directory`, 'STORE_OPEN_FAILED', path)
    }
    // Without CURRENT, LevelDB would silently start an empty database over
    // the old table files and then delete them.
    const files = readdirSync(path)
    const hasData = files.some(f => /^(MANIFEST-\d+|\d+\.(ldb|sst|log))$/.test(f))
    if (hasData && !files.includes('CURRENT')) {
      throw new StoreError(`data dir ${path} is corrupt: its CURRENT file is missing`, 'STORE_CORRUPT', path)
    }
    return
  }
  try {
    mkdirSync(path, { recursive: true })
  } catch (err) {
    throw new StoreError(`data dir ${path} cannot be created: ${mkdirReason(path, err as Error)}`, 'STORE_OPEN_FAILED', path, { cause: err })
  }
}

// A recursive mkdir reports a parent it could not create (read-only file
// system, permission) as ENOENT; creating the first missing one alone says why.
function mkdirReason (path: string, err: Error): string {
  let missing = path
  while (dirname(missing) !== missing && !existsSync(dirname(missing))) missing = dirname(missing)
  try {
    mkdirSync(missing)
  } catch (first) {
    return (first as Error).message
  }
  return err.message
}

function openFailure (path: string, err: unknown): StoreError {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  const reason = cause?.message ?? (err as Error).message
  if (cause?.code === 'LEVEL_LOCKED') {
    return new StoreError(`data dir ${path} is locked by another process`, 'STORE_LOCKED', path, { cause: err })
  }
  // CURRENT names a MANIFEST that is gone: the directory lost files LevelDB needs
  if (cause?.code === 'LEVEL_CORRUPTION' || /MANIFEST-\d+: No such file/.test(reason)) {
    return new StoreError(`data dir ${path} is corrupt: ${reason}`, 'STORE_CORRUPT', path, { cause: err })
  }
  return new StoreError(`data dir ${path} cannot be opened: ${reason}`, 'STORE_OPEN_FAILED', path, { cause: err })
}

async function checkFormat (db: Db, path: string): Promise<void> {
  const stored = await db.get(FORMAT_KEY)
  if (stored === undefined) {
    const [anyKey] = await db.keys({ limit: 1 }).all()
    if (anyKey !== undefined) {
      throw new StoreError(`data dir ${path} holds a LevelDB database that is not a vmq-ts store`, 'STORE_CORRUPT', path)
    }
    await db.put(FORMAT_KEY, Buffer.from(FORMAT_VERSION))
    return
  }
  if (OLDER_FORMATS.includes(stored.toString())) {
    // readable as it is; marked so that an older version refuses it instead of missing what it cannot read
    await db.put(FORMAT_KEY, Buffer.from(FORMAT_VERSION))
    return
  }
  if (stored.toString() !== FORMAT_VERSION) {
    throw new StoreError(
      `data dir ${path} holds store format ${JSON.stringify(stored.toString())}, this version reads format ${FORMAT_VERSION}`,
      'STORE_CORRUPT', path)
  }
}
