// Incoming QoS 2 PUBLISHes awaiting their PUBREL (i keys); the packet ids are
// kept in memory per client.
import { decodeValue, encodeValue, type Stored } from './codec.js'
import { incomingKey, parseClientKey } from './keys.js'
import { queuedCopy } from './queued-copy.js'
import type { StoreIo } from './store-io.js'
import type { ClientLike, PacketLike } from './store-types.js'
import type { WriteOp } from './write-batcher.js'

export class IncomingPackets {
  readonly #io: StoreIo
  readonly #ids = new Map<string, Set<number>>()

  constructor (io: StoreIo) {
    this.#io = io
  }

  async load (): Promise<void> {
    await this.#io.scan('i', false, key => {
      const { clientId, rest } = parseClientKey(key)
      this.#idsOf(clientId).add(Number(rest))
    })
  }

  async store (client: ClientLike, packet: PacketLike): Promise<void> {
    const messageId = Number(packet.messageId)
    const copy = queuedCopy(packet)
    copy.messageId = packet.messageId
    this.#idsOf(client.id).add(messageId)
    await this.#io.write([{ type: 'put', key: incomingKey(client.id, messageId), value: encodeValue(copy) }])
  }

  async get (client: ClientLike, packet: PacketLike): Promise<Stored> {
    const messageId = Number(packet.messageId)
    const value = this.#ids.get(client.id)?.has(messageId) === true
      ? await this.#io.read(incomingKey(client.id, messageId))
      : undefined
    if (value === undefined) throw new Error('no such packet')
    return decodeValue(value)
  }

  async del (client: ClientLike, packet: PacketLike): Promise<void> {
    const messageId = Number(packet.messageId)
    const ids = this.#ids.get(client.id)
    if (ids?.delete(messageId) !== true) throw new Error('no such packet')
    if (ids.size === 0) this.#ids.delete(client.id)
    await this.#io.write([{ type: 'del', key: incomingKey(client.id, messageId) }])
  }

  /** Forgets the client's incoming QoS 2 state; the deletes to write. */
  cleanOps (clientId: string): WriteOp[] {
    const ids = this.#ids.get(clientId)
    if (ids === undefined) return []
    this.#ids.delete(clientId)
    return [...ids].map(id => ({ type: 'del', key: incomingKey(clientId, id) }))
  }

  /** Forgets the packets the disk never got; keeps the keys of the others (see write-recovery.ts). */
  alignWithDisk (onDisk: Set<string>, kept: Set<string>): void {
    for (const [clientId, ids] of this.#ids) {
      for (const id of [...ids]) {
        const key = incomingKey(clientId, id)
        if (onDisk.has(key)) kept.add(key)
        else ids.delete(id)
      }
      if (ids.size === 0) this.#ids.delete(clientId)
    }
  }

  #idsOf (clientId: string): Set<number> {
    let ids = this.#ids.get(clientId)
    if (ids === undefined) {
      ids = new Set()
      this.#ids.set(clientId, ids)
    }
    return ids
  }
}
