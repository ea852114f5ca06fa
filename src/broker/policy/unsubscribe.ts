// UNSUBSCRIBE policy: VerneMQ's allow_unsubscribe_during_netsplit. While a
// cluster member is unreachable and the setting (or the client's
// allow_unsubscribe from an auth plugin) is off, an UNSUBSCRIBE is not
// handled: no UNSUBACK, the subscriptions stay, and the client sends it again
// (MQTT-3.10.4-4/5 ask for an UNSUBACK, so it waits and retries, as it would
// for a lost one).
import type { Client } from 'aedes'
import { getMeta } from '../client-meta.js'
import { handledHere } from '../delivery/adapter-guard.js'
import { inNetsplit, type HookContext } from './context.js'

/** The listener onParsedPacket runs on each packet of a connection, before aedes. */
export function unsubscribePolicy (ctx: HookContext): (packet: { cmd: string }, client: Client) => void {
  return (packet, client) => {
    if (packet.cmd !== 'unsubscribe' || !client.connected || !inNetsplit(ctx)) return
    if (getMeta(client)?.allowUnsubscribe ?? ctx.settings.flag('allow_unsubscribe_during_netsplit')) return
    ctx.log.warn({ client: client.id }, "can't unsubscribe: a cluster member is unreachable and allow_unsubscribe_during_netsplit is off (no UNSUBACK; the client sends it again)")
    handledHere(packet)
  }
}
