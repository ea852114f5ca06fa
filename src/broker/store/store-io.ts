// Reads and writes of the LevelDB store, shared by its parts. Every write goes
// through the one group-commit batcher, in order; reads see the writes the
// batcher holds that are not in LevelDB yet.
import { decodeValue, type Stored } from './codec.js'
import { kindRange } from './keys.js'
import type { Db } from './open-db.js'
import type { WriteBatcher, WriteOp } from './write-batcher.js'

export const READ_CHUNK = 256
const SCAN_BATCH = 1000
export const EMPTY_VALUE = Buffer.alloc(0)

export class StoreIo {
  readonly db: Db
  readonly batcher: WriteBatcher
  /** set while the database is closed and opened again: reads wait for it */
  #reopening: Promise<void> | undefined

  constructor (db: Db, batcher: WriteBatcher) {
    this.db = db
    this.batcher = batcher
  }

  async write (ops: WriteOp[]): Promise<void> {
    await this.batcher.write(ops) // a failure is logged once, by the batcher
  }

  writeBehind (ops: WriteOp[], undo?: () => void): void {
    if (undo === undefined) this.batcher.writeBehind(ops)
    else this.write(ops).catch(undo)
  }

  /**
   * Closes and opens the database again: LevelDB keeps the error of a failed
   * background write (a table file a full disk did not take) and refuses every
   * write until it is opened again. Reads made meanwhile wait.
   */
  async reopen (): Promise<void> {
    const db = this.db
    this.#reopening ??= (async () => {
      try {
        await db.close()
        await db.open()
      } finally {
        this.#reopening = undefined
      }
    })()
    await this.#reopening
  }

  async read (key: string): Promise<Buffer | undefined> {
    const pending = this.batcher.pendingValue(key)
    if (pending !== undefined) return pending ?? undefined
    await this.#opened()
    return await this.db.get(key)
  }

  async #opened (): Promise<void> {
    if (this.#reopening !== undefined) await this.#reopening.catch(() => undefined)
  }

  async readMany (keys: string[]): Promise<Array<Buffer | undefined>> {
    const values: Array<Buffer | undefined> = new Array(keys.length)
    const fromDisk: number[] = []
    keys.forEach((key, i) => {
      const pending = this.batcher.pendingValue(key)
      if (pending === undefined) fromDisk.push(i)
      else values[i] = pending ?? undefined
    })
    if (fromDisk.length > 0) {
      await this.#opened()
      const read = await this.db.getMany(fromDisk.map(i => keys[i]))
      fromDisk.forEach((i, j) => { values[i] = read[j] })
    }
    return values
  }

  /** Visits every key (and value) of one kind, a batch at a time. */
  async scan (kind: string, withValues: boolean, visit: (key: string, value: Buffer | undefined) => void): Promise<void> {
    const range = kindRange(kind)
    await this.#opened()
    if (withValues) {
      const it = this.db.iterator(range)
      try {
        for (let batch = await it.nextv(SCAN_BATCH); batch.length > 0; batch = await it.nextv(SCAN_BATCH)) {
          for (const [key, value] of batch) visitKey(visit, key, value)
        }
      } finally {
        await it.close()
      }
    } else {
      const it = this.db.keys(range)
      try {
        for (let batch = await it.nextv(SCAN_BATCH); batch.length > 0; batch = await it.nextv(SCAN_BATCH)) {
          for (const key of batch) visitKey(visit, key, undefined)
        }
      } finally {
        await it.close()
      }
    }
  }

  async * valuesOf (keys: string[], keep: (value: Stored) => boolean = () => true): AsyncGenerator<Stored> {
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      const values = await this.readMany(keys.slice(i, i + READ_CHUNK))
      for (const value of values) {
        if (value === undefined) continue
        const decoded = decodeValue(value)
        if (keep(decoded)) yield decoded
      }
    }
  }
}

function visitKey (visit: (key: string, value: Buffer | undefined) => void, key: string, value: Buffer | undefined): void {
  try {
    visit(key, value)
  } catch (err) {
    throw new Error(`key ${JSON.stringify(key)}: ${(err as Error).message}`)
  }
}
