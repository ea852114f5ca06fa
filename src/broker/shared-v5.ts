// Shared subscriptions for MQTT 5 clients: the node serves `$share/<group>/<filter>`
// for every protocol version (src/cluster/shared.ts), but aedes refuses it to
// MQTT 5 clients with 0x9E. The adapter lifts that refusal while a SUBSCRIBE
// with such a filter is handled, and while a CONNECT may restore them.
import type { Client } from 'aedes'
import { isShared } from '../mqtt/topic.js'
import { afterParsedPacket, allowSharedSubscriptions, onParsedPacket } from './delivery/adapter.js'

export function serveSharedToV5 (client: Client): void {
  let connecting = false
  let subscribing = false
  onParsedPacket(client, packet => {
    if (packet.cmd === 'connect') {
      if ((packet as { protocolVersion?: number }).protocolVersion !== 5) return
      // before aedes reads the CONNECT: 3.1/3.1.1 connections are left as they are
      allowSharedSubscriptions(client, () => connecting || subscribing)
      connecting = true
    } else if (packet.cmd === 'subscribe') {
      subscribing = hasShared(packet as { subscriptions?: Array<{ topic: string }> })
    }
  })
  afterParsedPacket(client, () => { subscribing = false })
  // SUBSCRIBEs that came before the CONNACK are handled before 'connected' is emitted
  client.once('connected', () => { connecting = false })
  client.once('close', () => { connecting = false })
}

function hasShared (packet: { subscriptions?: Array<{ topic: string }> }): boolean {
  return packet.subscriptions?.some(s => isShared(s.topic)) === true
}
