// Everything the queue layer relies on in aedes 2.0.0-beta.1 beyond its
// documented API, in one place. test/unit/broker/queue/aedes-bridge.test.ts
// checks each of these against the installed aedes and fails if it changes.
//
// 1. authorizeForward(client, packet) may return a DIFFERENT packet object; aedes
//    sends that one, keeping its `messageId` (when set) and `dup`. We preassign
//    packet ids this way, so we know which id each delivery uses.
// 2. client.publish(packet) runs the packet through authorizeForward, after
//    aedes' per-client duplicate check (`brokerId` + increasing `brokerCounter`).
//    We deliver a held-back message by publishing a stub with our own brokerId
//    and a fresh counter; authorizeForward swaps in the real packet.
// 3. The only authorizeForward calls whose packet already has a `messageId` are
//    aedes' replay of the stored queue at CONNECT (lib/handlers/connect.js
//    emptyQueue); live, retained and client.publish packets have none.
// 4. client.subscriptions maps each filter of the connection to { qos }, and
//    aedes caps a delivery at the QoS of a filter equal to the topic.
// 5. A client.publish to a persistent session stores the stub through
//    persistence.outgoingEnqueue (the tap skips it) before delivering it.
// 6. PUBACK/PUBCOMP reach persistence.outgoingClearMessageId(client, ack) for
//    clean sessions too; a persistent session's PUBREC reaches
//    outgoingUpdate(client, pubrel); a forward refused for a persistent session
//    is cleared without a messageId.
// 7. Every subscriber's copy of a message shares the payload Buffer, and a null
//    from authorizeForward for QoS 0 sends nothing (writeQos0 relies on both).
import type { Client } from 'aedes'
import mqttPacket from 'mqtt-packet'

/** brokerId of the stubs that carry held-back messages through client.publish */
export const INJECTED_BROKER_ID = '\u0000vmq-queue'

/** The fields of an aedes PUBLISH packet the queue reads or sets. */
export interface OutPacket {
  cmd?: string
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  dup?: boolean
  messageId?: number
  brokerId?: string | null
  brokerCounter?: number
  properties?: Record<string, unknown>
}

let injections = 0

/**
 * Sends `packet` to the client at `qos` through aedes (so its QoS bookkeeping
 * and the session's stored queue see it). `pending` maps the stub's counter to
 * the packet until authorizeForward asks for it (see takeInjected).
 */
export function publishStub (client: Client, packet: OutPacket, qos: number, pending: Map<number, OutPacket>): void {
  const counter = ++injections
  pending.set(counter, packet)
  const stub = {
    cmd: 'publish' as const,
    topic: packet.topic,
    payload: packet.payload,
    qos: qos as 0 | 1 | 2,
    retain: packet.retain,
    dup: false,
    brokerId: INJECTED_BROKER_ID,
    brokerCounter: counter
  }
  client.publish(stub as Parameters<Client['publish']>[0], noop)
}

/** True for packets aedes replays from the stored queue at CONNECT (see 3. above). */
export function isStoredReplay (packet: OutPacket): boolean {
  return packet.messageId !== undefined
}

interface SubscriptionLike { qos: number }

/** The connection's filters and their granted QoS (see 4. above). */
export function subscriptionsOf (client: Client): Record<string, SubscriptionLike> {
  return (client as unknown as { subscriptions: Record<string, SubscriptionLike> }).subscriptions
}

/**
 * Writes a PUBLISH (a resend, with DUP) or a PUBREL straight to the
 * connection: aedes has no public call to send either with a given packet id.
 * client.conn, client.version and client.connecting are documented.
 */
export function writeRaw (client: Client, packet: mqttPacket.IPublishPacket | mqttPacket.IPubrelPacket): void {
  if (client.closed || !(client.connected || client.connecting)) return
  const version = client.version === 3 || client.version === 5 ? client.version : 4
  try {
    mqttPacket.writeToStream(packet, client.conn as unknown as NodeJS.WritableStream, { protocolVersion: version })
  } catch {
    // a packet that cannot be serialised was serialised once already; nothing to resend
  }
}

/** The encoded QoS 0 PUBLISH of a message, shared by all its deliveries (aedes copies the packet per subscriber, not the payload). */
const encodedQos0 = new WeakMap<Buffer, { topic: string, retain: boolean, bytes: Buffer }>()

export type DirectWrite = 'written' | 'dropped' | 'not-here'

/**
 * Writes a QoS 0 PUBLISH to a 3.1/3.1.1 connection at once, encoded once for
 * every subscriber of the message, instead of aedes encoding it again per
 * subscriber in a later event-loop turn. aedes then gets null from
 * authorizeForward and sends nothing. A connection whose buffered bytes exceed
 * what `maxMessages` such messages take is not waiting for more: the message is
 * dropped (VerneMQ drops beyond max_online_messages; -1 = no limit). 'not-here':
 * MQTT 5 (properties) or a connection not open, left to aedes.
 */
export function writeQos0 (client: Client, packet: OutPacket, maxMessages: number): DirectWrite {
  if (client.version !== 4 && client.version !== 3) return 'not-here'
  if (!client.connected || client.closed || packet.properties !== undefined || !Buffer.isBuffer(packet.payload)) return 'not-here'
  const conn = client.conn as unknown as { write: (b: Buffer) => boolean, writableLength: number, destroyed: boolean }
  if (conn.destroyed) return 'not-here'
  let cached = encodedQos0.get(packet.payload)
  if (cached === undefined || cached.topic !== packet.topic || cached.retain !== packet.retain) {
    cached = { topic: packet.topic, retain: packet.retain, bytes: mqttPacket.generate({ cmd: 'publish', topic: packet.topic, payload: packet.payload, qos: 0, retain: packet.retain, dup: false }) }
    encodedQos0.set(packet.payload, cached)
  }
  if (maxMessages >= 0 && conn.writableLength > maxMessages * cached.bytes.length) return 'dropped'
  conn.write(cached.bytes)
  return 'written'
}

function noop (): void {}
