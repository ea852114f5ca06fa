// The persistence aedes sees: the node's store, with the delivery layer listening
// in on the calls that concern outgoing messages.
//
// - Sessions learn of PUBACK, PUBREC and PUBCOMP from the parser (see
//   queues.ts), not from the store calls aedes makes for them; a store with
//   clearAcked deletes an acknowledged copy without reading it back.
// - When authorizeForward holds a message back, aedes asks the store to forget
//   it (a clear without packet id); the queue still delivers it, so that call is
//   ignored for a live session.
// - A resumed persistent session's stored queue is loaded by the session
//   (outgoingStream returns nothing to aedes), so limits and DUP apply to it.
// - A held-back message sent through client.publish (see adapter.ts) is
//   already stored: the copy aedes queues for the stub is not.
// - aedes updates the stored copy of every QoS 1/2 message it sends to a
//   persistent session; a store that cannot find it (aedes' memory persistence,
//   for an upgraded QoS 0 message) gets it queued first. The LevelDB store does
//   that itself.
// max_offline_messages is the store's (LevelPersistence.setMaxOfflineMessages).
import { Readable } from 'node:stream'
import type { DurableStore } from '../store/durable-store.js'
import type { ClientRef, Persistence, StoredPacket } from '../store/persistence.js'
import { overlay } from '../store/overlay.js'
import { INJECTED_BROKER_ID } from './adapter.js'
import type { SessionQueue } from './outbox.js'

/** MQTT 5 PUBREL reason: Packet Identifier not found */
const PACKET_ID_NOT_FOUND = 0x92

/** the live session of an aedes client of this mountpoint */
export type SessionOf = (client: ClientRef) => SessionQueue | undefined

/** The parts of aedes' persistence contract the tap overrides beyond vmq-ts' Persistence type. */
interface Outgoing {
  outgoingUpdate: (client: ClientRef, packet: StoredPacket) => Promise<void>
}

export function tapPersistence<P extends Persistence> (inner: P, sessionOf: SessionOf): P {
  const outgoing = inner as unknown as Outgoing
  const { clearAcked, queued: queuedOf } = inner as Partial<Pick<DurableStore, 'clearAcked' | 'queued'>>

  const overrides: Record<string, unknown> = {
    outgoingEnqueue: async (sub: { clientId: string }, packet: StoredPacket) => {
      if (packet.brokerId === INJECTED_BROKER_ID) return
      await inner.outgoingEnqueueCombi([{ clientId: sub.clientId, topic: packet.topic, qos: packet.qos }], packet)
    },

    outgoingUpdate: async (client: ClientRef, packet: StoredPacket) => {
      try {
        await outgoing.outgoingUpdate(client, packet)
      } catch (err) {
        // a PUBREC for a packet id this session has not in flight: aedes would
        // close the connection; MQTT 5 §4.3.3 answers PUBREL 0x92 (Packet
        // Identifier not found), and aedes writes this very packet next
        if (packet.cmd === 'pubrel') {
          (packet as { reasonCode?: number }).reasonCode = PACKET_ID_NOT_FOUND
          return
        }
        if ((packet.cmd ?? 'publish') !== 'publish' || packet.brokerId == null) throw err
        await inner.outgoingEnqueueCombi([{ clientId: client.id, topic: packet.topic, qos: packet.qos }], packet)
        await outgoing.outgoingUpdate(client, packet)
      }
    },

    outgoingClearMessageId: async (client: ClientRef, packet: StoredPacket) => {
      // a held-back message's stub that arrived after its session closed: nothing was stored for it
      if (packet.brokerId === INJECTED_BROKER_ID) return undefined
      // a PUBACK/PUBCOMP: deleted without reading the copy back (aedes only
      // passes it on to its 'ack' event, which the node does not use)
      if ((packet.cmd === 'puback' || packet.cmd === 'pubcomp') && clearAcked !== undefined) {
        clearAcked.call(inner, client.id, packet.messageId ?? 0)
        return undefined
      }
      const session = sessionOf(client)
      const heldBack = (packet.cmd ?? 'publish') === 'publish' && packet.messageId === undefined
      // a message the session holds back, not a message to forget
      if (heldBack && session !== undefined && !session.closed) return undefined
      return await inner.outgoingClearMessageId(client, packet)
    },

    outgoingStream: (client: ClientRef) => {
      const session = sessionOf(client)
      if (session === undefined || session.closed || !session.loading) return inner.outgoingStream(client)
      // a resumed session delivers its queue even when it ends with this connection (MQTT 5 Session Expiry 0)
      if (!session.resume) {
        // aedes discards the stored queue itself (clean start)
        session.loadNothing()
        return inner.outgoingStream(client)
      }
      void session.loadStored((queuedOf !== undefined ? queuedOf.call(inner, client) : inner.outgoingStream(client)) as AsyncIterable<never>)
      return Readable.from([])
    }
  }

  return overlay(inner, overrides)
}
