// Reads of shared messages for resumed sessions: the sessions resuming
// together read the same messages at the same time, so one read serves them
// all, and the reads asked for in one turn go to LevelDB as one getMany.
import { decodeValue, queuedPart } from './codec.js'
import { messageKey } from './keys.js'
import type { CachedMessage, SharedMessages } from './shared-messages.js'
import type { StoreIo } from './store-io.js'

export class SharedReads {
  readonly #io: StoreIo
  readonly #shared: SharedMessages
  /** shared messages being read */
  readonly #reading = new Map<number, Promise<CachedMessage | undefined>>()
  #toRead: Array<{ seq: number, resolve: (message: CachedMessage | undefined) => void, reject: (err: Error) => void }> = []

  constructor (io: StoreIo, shared: SharedMessages) {
    this.#io = io
    this.#shared = shared
  }

  /** The shared message, once start() has read it. */
  read (seq: number): Promise<CachedMessage | undefined> {
    let read = this.#reading.get(seq)
    if (read === undefined) {
      read = new Promise((resolve, reject) => { this.#toRead.push({ seq, resolve, reject }) })
      // a reader that stopped at an earlier failure may never await it
      read.catch(() => {})
      this.#reading.set(seq, read)
    }
    return read
  }

  /** Reads what read() was asked for, in one getMany. */
  start (): void {
    const wanted = this.#toRead
    if (wanted.length === 0) return
    this.#toRead = []
    const settle = (values: Array<Buffer | undefined>): void => {
      wanted.forEach(({ seq, resolve, reject }, i) => {
        this.#reading.delete(seq)
        const value = values[i]
        if (value === undefined) return resolve(undefined)
        try {
          const message = { value, queued: queuedPart(value), packet: decodeValue(value) }
          this.#shared.remember(seq, message)
          resolve(message)
        } catch (err) {
          reject(err as Error)
        }
      })
    }
    const fail = (err: Error): void => {
      for (const { seq, reject } of wanted) {
        this.#reading.delete(seq)
        reject(err)
      }
    }
    this.#io.readMany(wanted.map(({ seq }) => messageKey(seq))).then(settle, fail)
  }
}
