// Group commit: writes asked for while a LevelDB batch is being written are
// collected into the next batch, and each caller's promise settles when the
// batch holding its writes is in LevelDB's log. One batch is in flight at a
// time, so writes reach the disk in the order they were asked for. A batch
// holds the last write of each key only (LevelDB applies a batch at once, so
// a put followed by a delete of the same key, e.g. a queued copy's packet id
// and its PUBACK, is written as the delete alone).
//
// After a batch fails (disk full, I/O error) the batcher takes no more writes:
// LevelDB may have left part of the failed record in its log, and records
// appended after it would be acknowledged now and dropped when the log is
// replayed at the next start. Every later write is refused with the first
// error until resume(): the store calls it once it has moved LevelDB to a new
// log file and a test write succeeded (write-recovery.ts).
import type { ClassicLevel } from 'classic-level'

export type WriteOp =
  | { type: 'put', key: string, value: Buffer }
  | { type: 'del', key: string }

interface Waiter { resolve: () => void, reject: (err: Error) => void }

export class WriteBatcher {
  readonly #db: ClassicLevel<string, Buffer>
  #waiters: Waiter[] = []
  /** key -> value (null = delete) for writes not yet in LevelDB */
  #pending = new Map<string, Buffer | null>()
  /** the same for the batch being written */
  #inFlight = new Map<string, Buffer | null>()
  #writing: Promise<void> | undefined
  #scheduled = false
  #failure: Error | undefined
  readonly #onFailure: (err: Error) => void

  constructor (db: ClassicLevel<string, Buffer>, onFailure: (err: Error) => void = () => {}) {
    this.#db = db
    this.#onFailure = onFailure
  }

  /** The error of the batch LevelDB could not write, if one failed. */
  get failure (): Error | undefined {
    return this.#failure
  }

  /** Takes writes again after a failure; only once the log is known to be sound (see the top). */
  resume (): void {
    this.#failure = undefined
  }

  write (ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve()
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    this.#add(ops)
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
    })
  }

  /**
   * write() for a caller that does not wait: the ops go into the next batch;
   * a failure is only reported (onFailure) and refuses later writes.
   */
  writeBehind (ops: WriteOp[]): void {
    if (ops.length === 0 || this.#failure !== undefined) return
    this.#add(ops)
  }

  #add (ops: WriteOp[]): void {
    for (const op of ops) this.#pending.set(op.key, op.type === 'put' ? op.value : null)
    this.#schedule()
  }

  /** Resolves once everything asked for so far is in LevelDB (rejects if that batch failed). */
  flushed (): Promise<void> {
    if (this.#pending.size > 0) {
      return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
    }
    return this.#writing ?? Promise.resolve()
  }

  /** A value written but not yet flushed: Buffer, null when deleted, undefined when nothing pending. */
  pendingValue (key: string): Buffer | null | undefined {
    const value = this.#pending.get(key)
    return value !== undefined ? value : this.#inFlight.get(key)
  }

  /** Resolves once everything asked for so far is written. */
  async drain (): Promise<void> {
    while (this.#writing !== undefined || this.#pending.size > 0) {
      if (this.#writing !== undefined) await this.#writing.catch(() => undefined)
      else await this.#flush()
    }
  }

  #schedule (): void {
    if (this.#scheduled || this.#writing !== undefined) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      void this.#flush()
    })
  }

  async #flush (): Promise<void> {
    if (this.#writing !== undefined || this.#pending.size === 0) return
    const waiters = this.#waiters
    this.#inFlight = this.#pending
    this.#waiters = []
    this.#pending = new Map()
    const ops: WriteOp[] = []
    for (const [key, value] of this.#inFlight) ops.push(value === null ? { type: 'del', key } : { type: 'put', key, value })
    if (this.#failure !== undefined) {
      for (const w of waiters) w.reject(this.#failure)
      this.#inFlight = new Map()
      return
    }
    const writing = this.#db.batch(ops)
    this.#writing = writing
    try {
      await writing
      for (const w of waiters) w.resolve()
    } catch (err) {
      if (this.#failure === undefined) {
        this.#failure = err as Error
        this.#onFailure(err as Error)
      }
      for (const w of waiters) w.reject(err as Error)
    } finally {
      this.#writing = undefined
      this.#inFlight = new Map()
      if (this.#pending.size > 0) this.#schedule()
    }
  }
}
