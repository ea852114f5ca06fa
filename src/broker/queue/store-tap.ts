// The persistence aedes sees: the node's store, with the queue layer listening
// in on the calls that concern outgoing messages.
//
// - PUBACK/PUBCOMP reach the store as outgoingClearMessageId(client, ack) for
//   every session, clean or not: that is how a session learns of its acks.
//   A PUBREC of a persistent session arrives as outgoingUpdate(client, pubrel).
// - When authorizeForward holds a message back, aedes asks the store to forget
//   it (a clear without packet id); the queue still delivers it, so that call is
//   ignored for a live session.
// - A resumed persistent session's stored queue is loaded by the session
//   (outgoingStream returns nothing to aedes), so limits and DUP apply to it.
// - max_offline_messages is enforced when aedes queues a message for a session
//   that is not connected.
// - aedes updates the stored copy of every QoS 1/2 message it sends to a
//   persistent session; a copy that was never stored (an upgraded QoS 0
//   message, a message of a resumed session) is stored then.
import { Readable } from 'node:stream'
import type { Client } from 'aedes'
import type { BrokerCounters } from '../counters.js'
import type { Logger } from '../log.js'
import type { ClientRef, Persistence, StoredPacket } from '../store/persistence.js'
import { INJECTED_BROKER_ID } from './aedes-bridge.js'
import type { QueueSettings } from './settings.js'
import type { SessionQueue } from './session-queue.js'

export interface TapHost {
  readonly settings: QueueSettings
  readonly counters: BrokerCounters
  readonly log: Logger
  /** the live session of an aedes client of this mountpoint */
  sessionOf: (client: ClientRef) => SessionQueue | undefined
  isOnline: (clientId: string) => boolean
}

type Sub = { clientId: string }

/** The parts of aedes' persistence contract the tap overrides beyond vmq-ts' Persistence type. */
interface Outgoing {
  outgoingUpdate: (client: ClientRef, packet: StoredPacket) => Promise<void>
  /** the LevelDB store can say how long a client's queue is */
  queueLength?: (clientId: string) => number
}

export function tapPersistence<P extends Persistence> (inner: P, host: TapHost): P {
  const counted = new Map<string, number>()
  const outgoing = inner as unknown as Outgoing
  const queueLength = (clientId: string): number =>
    typeof outgoing.queueLength === 'function' ? outgoing.queueLength(clientId) : counted.get(clientId) ?? 0
  const count = (clientId: string, delta: number): void => {
    const n = (counted.get(clientId) ?? 0) + delta
    if (n > 0) counted.set(clientId, n)
    else counted.delete(clientId)
  }

  /** Drops the subscribers whose offline queue is full; the rest are counted. */
  const admit = (subs: Sub[]): Sub[] => {
    const max = host.settings.maxOffline
    let kept: Sub[] | undefined
    for (let i = 0; i < subs.length; i++) {
      const id = subs[i].clientId
      const full = max >= 0 && !host.isOnline(id) && queueLength(id) >= max
      if (full) {
        host.counters.offlineDropped++
        host.log.debug({ client: id }, 'message not stored: offline queue full (max_offline_messages)')
        kept ??= subs.slice(0, i)
      } else {
        kept?.push(subs[i])
      }
    }
    const admitted = kept ?? subs
    for (const sub of admitted) count(sub.clientId, 1)
    return admitted
  }

  const overrides: Partial<Persistence> & Record<string, unknown> = {
    outgoingEnqueue: async (sub: Sub, packet: StoredPacket) => {
      if (packet.brokerId === INJECTED_BROKER_ID) return // client.publish of a held-back message: already stored
      await overrides.outgoingEnqueueCombi?.([{ ...sub, topic: packet.topic, qos: packet.qos }], packet)
    },

    outgoingEnqueueCombi: async (subs: Array<{ clientId: string, topic: string, qos: number }>, packet: StoredPacket) => {
      if (subs.length === 0) return
      const admitted = admit(subs) as typeof subs
      if (admitted.length > 0) await inner.outgoingEnqueueCombi(admitted, packet)
    },

    outgoingUpdate: async (client: ClientRef, packet: StoredPacket) => {
      if (packet.cmd === 'pubrel' && packet.messageId !== undefined) host.sessionOf(client)?.released(packet.messageId)
      try {
        await outgoing.outgoingUpdate(client, packet)
      } catch (err) {
        if ((packet.cmd ?? 'publish') !== 'publish' || packet.brokerId == null) throw err
        count(client.id, 1)
        await inner.outgoingEnqueueCombi([{ clientId: client.id, topic: packet.topic, qos: packet.qos }], packet)
        await outgoing.outgoingUpdate(client, packet)
      }
    },

    outgoingClearMessageId: async (client: ClientRef, packet: StoredPacket) => {
      // a held-back message's stub that arrived after its session closed: nothing was stored for it
      if (packet.brokerId === INJECTED_BROKER_ID) return undefined
      const session = host.sessionOf(client)
      if (session !== undefined && !session.closed) {
        if (packet.cmd === 'puback' || packet.cmd === 'pubcomp') {
          if (packet.messageId !== undefined) session.acked(packet.messageId)
        } else if ((packet.cmd ?? 'publish') === 'publish' && packet.messageId === undefined) {
          return undefined // a message the session holds back, not a message to forget
        }
      }
      const cleared = await inner.outgoingClearMessageId(client, packet)
      if (cleared !== undefined && cleared !== null) count(client.id, -1)
      return cleared
    },

    outgoingStream: (client: ClientRef) => {
      const session = host.sessionOf(client)
      if (session === undefined || session.closed || !session.loading) return inner.outgoingStream(client)
      if (!session.resume || (client as Client).clean) {
        // aedes discards the stored queue itself (clean start, or a session that ends with the connection)
        session.loadNothing()
        return inner.outgoingStream(client)
      }
      void session.loadStored(inner.outgoingStream(client) as AsyncIterable<never>)
      return Readable.from([])
    }
  }

  return new Proxy(inner, {
    get (target, key, receiver) {
      if (typeof key === 'string' && Object.hasOwn(overrides, key)) return overrides[key]
      const value = Reflect.get(target, key, receiver) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
}
