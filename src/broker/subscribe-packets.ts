// VerneMQ authorizes a SUBSCRIBE as a whole: one denied filter fails every
// filter of that packet. aedes asks authorizeSubscribe one filter at a time and
// gives no way back to the packet, so the node notes, for each subscription
// object, the SUBSCRIBE it came in (read from the parser through the delivery
// adapter; test/e2e/auth.test.ts fails if that ever stops working).
import type { Client } from 'aedes'
import { onParsedPacket } from './delivery/adapter.js'

interface SubscribePacket { cmd: string, subscriptions?: object[] }

const packetOf = new WeakMap<object, SubscribePacket>()

export function trackSubscribePackets (client: Client): void {
  onParsedPacket(client, (packet: SubscribePacket) => {
    if (packet.cmd !== 'subscribe') return
    for (const sub of packet.subscriptions ?? []) packetOf.set(sub, packet)
  })
}

/** The other filters of the SUBSCRIBE a subscription came in (empty when unknown). */
export function siblingFilters (sub: object): Array<{ topic: string, qos: number }> {
  const packet = packetOf.get(sub)
  return (packet?.subscriptions ?? []).filter(s => s !== sub) as Array<{ topic: string, qos: number }>
}
