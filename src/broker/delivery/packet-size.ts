// The size of an MQTT 5 PUBLISH on the wire, to hold it against the Maximum
// Packet Size the client set in its CONNECT (MQTT-3.1.2-24: the server must not
// send it a larger packet).
import mqttPacket from 'mqtt-packet'
import type { OutPacket } from './adapter.js'

const NO_PAYLOAD = Buffer.alloc(0)

/** Bytes of the PUBLISH of `packet` at `qos` (with a packet id when QoS > 0), fixed header included. */
export function publishSize (packet: OutPacket, qos: number): number {
  const payloadLength = Buffer.byteLength(packet.payload)
  // encoded without its payload (mqtt-packet would copy it), then the payload's bytes added
  const header = mqttPacket.generate({
    cmd: 'publish',
    topic: packet.topic,
    payload: NO_PAYLOAD,
    qos: qos as 0 | 1 | 2,
    retain: packet.retain,
    dup: false,
    ...(qos > 0 ? { messageId: 1 } : {}),
    ...(packet.properties !== undefined ? { properties: packet.properties } : {})
  }, { protocolVersion: 5 })
  const remaining = remainingLength(header.length) + payloadLength
  return 1 + lengthBytes(remaining) + remaining
}

/** The remaining length of a packet of `size` bytes (1 type byte, its length bytes, the rest). */
function remainingLength (size: number): number {
  for (let k = 1; k < 4; k++) if (lengthBytes(size - 1 - k) === k) return size - 1 - k
  return size - 5
}

/** Bytes of MQTT's variable byte integer for a remaining length of `n`. */
function lengthBytes (n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4
}
