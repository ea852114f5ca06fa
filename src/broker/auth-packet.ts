// MQTT 5 enhanced authentication (the AUTH packet) is not implemented: a CONNECT
// with an Authentication Method gets CONNACK 0x8C (Bad authentication method)
// from aedes. A client that sent no Authentication Method must not send AUTH
// [MQTT-4.12.0-5], so an AUTH after CONNECT is a Protocol Error: DISCONNECT 0x82,
// then the connection closes (aedes alone closes it silently). 0x8C is not a
// DISCONNECT reason code (MQTT 5 §3.14.2.1), and clients reject it there.
import type { Client } from 'aedes'
import { onParsedPacket, writeNow } from './delivery/adapter.js'

const PROTOCOL_ERROR = 0x82

export function refuseAuthPackets (client: Client): void {
  onParsedPacket(client, packet => {
    // aedes closes the connection right after this listener: the DISCONNECT goes out now
    if (packet.cmd === 'auth' && client.version === 5) writeNow(client, { cmd: 'disconnect', reasonCode: PROTOCOL_ERROR })
  })
}
