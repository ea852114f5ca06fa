// Shared subscriptions for MQTT 5 clients: the node serves `$share/<group>/<filter>`
// for every protocol version (src/cluster/shared.ts), but aedes refuses it to
// MQTT 5 clients with 0x9E. The adapter lifts that refusal while a SUBSCRIBE
// with such a filter is handled, and while a CONNECT may restore them.
import type { Client } from 'aedes'
import { isShared } from '../mqtt/topic.js'
import { afterParsedPacket, liftShareRefusal, onParsedPacket, restoreShareRefusal } from './delivery/adapter.js'

/** What an MQTT 5 connection is doing; 3.1/3.1.1 connections have none. */
interface Handling { connecting: boolean, subscribing: boolean }

const v5 = new WeakMap<Client, Handling>()

export function serveSharedToV5 (client: Client): void {
  onParsedPacket(client, seen)
}

/**
 * One listener for every connection. The refusal is lifted while a CONNECT
 * that may restore a session (Clean Start 0) or a SUBSCRIBE with a `$share/`
 * filter is handled, and restored after.
 */
function seen (packet: { cmd: string }, client: Client): void {
  if (packet.cmd === 'connect') {
    if ((packet as { protocolVersion?: number }).protocolVersion !== 5) return
    const handling: Handling = { connecting: (packet as { clean?: boolean }).clean === false, subscribing: false }
    v5.set(client, handling)
    // before aedes reads the CONNECT: 3.1/3.1.1 connections are left as they are
    if (handling.connecting) {
      liftShareRefusal(client)
      // SUBSCRIBEs that came before the CONNACK are handled before 'connected' is emitted
      client.once('connected', () => { handling.connecting = false; if (!handling.subscribing) restoreShareRefusal(client) })
    }
    afterParsedPacket(client, () => {
      if (!handling.subscribing) return
      handling.subscribing = false
      if (!handling.connecting) restoreShareRefusal(client)
    })
  } else if (packet.cmd === 'subscribe') {
    const handling = v5.get(client)
    if (handling === undefined || !hasShared(packet as { subscriptions?: Array<{ topic: string }> })) return
    handling.subscribing = true
    liftShareRefusal(client)
  }
}

function hasShared (packet: { subscriptions?: Array<{ topic: string }> }): boolean {
  return packet.subscriptions?.some(s => isShared(s.topic)) === true
}
