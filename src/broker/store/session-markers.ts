// Which persistent sessions exist (p keys), so a reconnect resumes a session
// (Session Present) even when it has no subscription.
import { sessionKey } from './keys.js'
import { EMPTY_VALUE, type StoreIo } from './store-io.js'
import type { WriteOp } from './write-batcher.js'

export class SessionMarkers {
  readonly #io: StoreIo
  readonly #clients = new Set<string>()

  constructor (io: StoreIo) {
    this.#io = io
  }

  async load (): Promise<void> {
    await this.#io.scan('p', false, key => this.#clients.add(key.slice(1)))
  }

  async mark (clientId: string): Promise<void> {
    if (this.#clients.has(clientId)) return
    this.#clients.add(clientId)
    await this.#io.write([{ type: 'put', key: sessionKey(clientId), value: EMPTY_VALUE }])
  }

  has (clientId: string): boolean {
    return this.#clients.has(clientId)
  }

  /** The session ended: its marker's delete joins `ops`. */
  unmark (clientId: string, ops: WriteOp[]): void {
    if (this.#clients.delete(clientId)) ops.push({ type: 'del', key: sessionKey(clientId) })
  }

  /** Writes the markers the disk lacks (`ops`) and keeps the keys of the others (see write-recovery.ts). */
  alignWithDisk (onDisk: Set<string>, kept: Set<string>, ops: WriteOp[]): void {
    for (const clientId of this.#clients) {
      const key = sessionKey(clientId)
      kept.add(key)
      if (!onDisk.has(key)) ops.push({ type: 'put', key, value: EMPTY_VALUE })
    }
  }
}
