// VerneMQ authorizes a SUBSCRIBE as a whole: one denied filter fails every
// filter of that packet. aedes asks authorizeSubscribe one filter at a time and
// gives no way back to the packet, so the node notes, for each subscription
// object, the SUBSCRIBE it came in (read from the parser through the delivery
// adapter; test/e2e/auth.test.ts fails if that ever stops working).
import type { Client } from 'aedes'
import { onParsedPacket } from './delivery/adapter.js'

interface SubscribePacket { cmd: string, messageId?: number, subscriptions?: object[] }

const packetOf = new WeakMap<object, SubscribePacket>()

function noteSubscribe (packet: SubscribePacket): void {
  if (packet.cmd !== 'subscribe') return
  for (const sub of packet.subscriptions ?? []) packetOf.set(sub, packet)
}

export function trackSubscribePackets (client: Client): void {
  onParsedPacket(client, noteSubscribe)
}

/** The SUBSCRIBE a subscription object came in, when it came from the client. */
export function subscribePacketOf (sub: object): SubscribePacket | undefined {
  return packetOf.get(sub)
}

const verdicts = new WeakMap<SubscribePacket, boolean>()

/**
 * Whether every filter of the SUBSCRIBE `sub` came in passes `check` (just
 * `sub` when its packet is unknown). Worked out once per packet: aedes asks for
 * each filter, and asking for all of them each time made a SUBSCRIBE of n
 * filters cost n² checks.
 */
export function wholePacketPasses (sub: { topic: string, qos: number }, check: (s: { topic: string, qos: number }) => boolean): boolean {
  const packet = packetOf.get(sub)
  if (packet === undefined) return check(sub)
  let verdict = verdicts.get(packet)
  if (verdict === undefined) {
    verdict = (packet.subscriptions as Array<{ topic: string, qos: number }>).every(check)
    verdicts.set(packet, verdict)
  }
  return verdict
}
