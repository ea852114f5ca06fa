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

function noop (): void {}
