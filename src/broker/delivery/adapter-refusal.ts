// How the packet guard ends a connection that broke the protocol: a v5 client
// is told why (CONNACK or DISCONNECT with a reason code), then the socket is
// half-closed so that the reply is read before it closes. Part of the delivery
// adapter; what it relies on in aedes is listed in adapter-guard.ts (2.).
import type { Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { endConnection } from './end-connection.js'

interface RefusalInternals {
  _rejectingPacketTooLarge: boolean
  /** null until aedes disconnects the client itself (v5: sending a DISCONNECT) */
  disconnectReasonCode: number | null
}

/** How long a refused connection may stay half-closed, for its CONNACK/DISCONNECT to be read, before it is cut. */
const REFUSAL_FLUSH_MS = 1000

/**
 * How long a v5 connection refused while its CONNECT is handled (nothing more is
 * read from it) waits for the CONNACK before it is cut without a DISCONNECT: a
 * CONNECT can wait on a session takeover or the store for more than a second on
 * a loaded node.
 */
const CONNACK_WAIT_MS = 10_000

/**
 * Disconnects an MQTT 5 client that broke a rule outside the packet guard
 * (Receive Maximum, MQTT-3.3.4-9) as the guard refuses one: nothing more is
 * read, and DISCONNECT `reasonCode` and FIN go out before the socket closes.
 * aedes' client.disconnect destroys it once the DISCONNECT is written; with
 * the client's later packets unread that is a reset, which can discard the
 * DISCONNECT before the client reads it.
 */
export function disconnectWithReason (client: Client, reasonCode: number): void {
  if (disconnecting(client)) return
  (client as unknown as RefusalInternals).disconnectReasonCode = reasonCode
  stopReading(client)
  refuse(client, 'disconnect', reasonCode)
}

export function disconnecting (client: Client): boolean {
  return (client as unknown as RefusalInternals).disconnectReasonCode !== null
}

/**
 * Runs `then` once the client's CONNACK went out (aedes emits 'connected' right
 * after writing a successful one); a refused CONNECT closes the connection
 * instead, and a CONNECT still not answered after a grace time is cut.
 */
export function afterConnack (client: Client, then: () => void): void {
  const timer = setTimeout(() => { client.close() }, CONNACK_WAIT_MS)
  timer.unref()
  client.once('connected', () => {
    clearTimeout(timer)
    then()
  })
  client.conn.once('close', () => { clearTimeout(timer) })
}

/** aedes' nextBatch reads nothing more from the connection once this latch is set. */
export function stopReading (client: Client): void {
  (client as unknown as RefusalInternals)._rejectingPacketTooLarge = true
}

export type Reply = 'connack' | 'disconnect' | 'close'

/** Sends a v5 client the reason (CONNACK or DISCONNECT), then closes. */
export function refuse (client: Client, reply: Reply, reasonCode: number): void {
  if (reply === 'close' || client.conn.destroyed) {
    client.close()
    return
  }
  const packet = reply === 'connack'
    ? { cmd: 'connack' as const, sessionPresent: false, reasonCode }
    : { cmd: 'disconnect' as const, reasonCode }
  // The reply, then FIN; the socket is destroyed once the client closes its
  // side or after a grace time. Destroying it at once, with the client's bytes
  // still unread, sends a reset that can discard the reply before the client reads it.
  const conn = client.conn as unknown as NodeJS.ReadWriteStream & { once: (event: 'close', listener: () => void) => void }
  const timer = setTimeout(() => { client.close() }, REFUSAL_FLUSH_MS)
  timer.unref()
  conn.once('close', () => {
    clearTimeout(timer)
    client.close()
  })
  endConnection(conn, mqttPacket.generate(packet, { protocolVersion: 5 }))
}
