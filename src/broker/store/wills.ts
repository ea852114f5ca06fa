// Last wills: the client ids with a will are kept in memory, the wills on disk (w keys).
import { decodeValue, encodeValue, type Stored } from './codec.js'
import { willKey } from './keys.js'
import type { StoreIo } from './store-io.js'
import type { ClientLike, PacketLike } from './store-types.js'

export class Wills {
  readonly #io: StoreIo
  readonly #clients = new Set<string>()

  constructor (io: StoreIo) {
    this.#io = io
  }

  async load (): Promise<void> {
    await this.#io.scan('w', false, key => this.#clients.add(key.slice(1)))
  }

  async put (client: ClientLike, packet: PacketLike, brokerId: string | undefined): Promise<void> {
    packet.brokerId = brokerId
    packet.clientId = client.id
    this.#clients.add(client.id)
    await this.#io.write([{ type: 'put', key: willKey(client.id), value: encodeValue(packet) }])
  }

  async get (client: ClientLike): Promise<Stored | undefined> {
    if (!this.#clients.has(client.id)) return undefined
    const value = await this.#io.read(willKey(client.id))
    return value !== undefined ? decodeValue(value) : undefined
  }

  async del (client: ClientLike): Promise<Stored | undefined> {
    if (!this.#clients.has(client.id)) return undefined
    this.#clients.delete(client.id)
    const key = willKey(client.id)
    const value = await this.#io.read(key)
    await this.#io.write([{ type: 'del', key }])
    return value !== undefined ? decodeValue(value) : undefined
  }

  /** Wills of clients whose broker is not in `brokers` (brokerId -> last heartbeat). */
  notFrom (brokers: Record<string, unknown>): AsyncGenerator<Stored> {
    const keys = [...this.#clients].map(willKey)
    return this.#io.valuesOf(keys, will => !brokers[String(will.brokerId)])
  }

  /** Forgets the wills the disk never got; keeps the keys of the others (see write-recovery.ts). */
  alignWithDisk (onDisk: Set<string>, kept: Set<string>): void {
    for (const clientId of [...this.#clients]) {
      const key = willKey(clientId)
      if (onDisk.has(key)) kept.add(key)
      else this.#clients.delete(clientId)
    }
  }
}
