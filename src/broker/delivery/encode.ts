// The bytes of an outgoing PUBLISH, written straight to a connection by the
// adapter's direct writes: a message is encoded once for all its subscribers
// and copied with each one's packet id and DUP flag patched in (3.1/3.1.1, and
// MQTT 5 without properties); an MQTT 5 message with properties is encoded per
// subscriber (its properties, such as subscription identifiers, are its own).
import mqttPacket from 'mqtt-packet'
import type { OutPacket } from './out-packet.js'

/** A message's encodings at each QoS (3.1.1 at 0-2, MQTT 5 at 3-5), packet id 1 where it has one. */
interface Encoded { payload: Buffer, topic: string, retain: boolean, byQos: Array<Buffer | undefined> }

/**
 * The encodings of the messages delivered last, in a ring searched newest
 * first. A message's deliveries to its subscribers come one after another (one
 * mq emit); a short ring found by identity costs less than a WeakMap entry per
 * message, which every message delivered once (fan-in) would pay for nothing,
 * and a miss costs RECENT identity checks and no array shifting.
 */
const RECENT = 16
const recent: Array<Encoded | undefined> = new Array<Encoded | undefined>(RECENT).fill(undefined)
let newest = 0
/** payloads up to this size are copied whole with the id patched; larger ones go out as header + shared payload */
const COPY_LIMIT = 2048
const DUP_FLAG = 0x08
/** MQTT's largest remaining length (four length bytes) */
const MAX_REMAINING = 268_435_455

/**
 * The chunks to write for `packet` at `qos` (with `messageId` and `dup` when
 * QoS > 0) to a connection of protocol `version`.
 */
export function publishBytes (packet: OutPacket, qos: number, version: number, messageId?: number, dup = false): Buffer[] {
  if (version === 5 && hasProperties(packet)) return [encodeV5(packet, qos, messageId, dup)]
  const bytes = encoded(packet, qos, version === 5)
  if (qos === 0) return [bytes]
  const headerEnd = bytes.length - packet.payload.length
  const idAt = headerEnd - (version === 5 ? 3 : 2)
  const whole = packet.payload.length <= COPY_LIMIT
  const out = Buffer.allocUnsafe(whole ? bytes.length : headerEnd)
  bytes.copy(out, 0, 0, out.length)
  if (dup) out[0] |= DUP_FLAG
  out.writeUInt16BE(messageId ?? 1, idAt)
  return whole ? [out] : [out, packet.payload]
}

function hasProperties (packet: OutPacket): boolean {
  if (packet.properties === undefined) return false
  for (const _ in packet.properties) return true
  return false
}

function encoded (packet: OutPacket, qos: number, v5: boolean): Buffer {
  let entry: Encoded | undefined
  for (let i = 0, at = newest; i < RECENT; i++, at = at === 0 ? RECENT - 1 : at - 1) {
    const e = recent[at]
    if (e === undefined) break
    if (e.payload === packet.payload && e.topic === packet.topic && e.retain === packet.retain) {
      entry = e
      break
    }
  }
  if (entry === undefined) {
    newest = newest === RECENT - 1 ? 0 : newest + 1
    entry = { payload: packet.payload, topic: packet.topic, retain: packet.retain, byQos: [undefined, undefined, undefined, undefined, undefined, undefined] }
    recent[newest] = entry
  }
  const slot = v5 ? qos + 3 : qos
  let bytes = entry.byQos[slot]
  if (bytes === undefined) {
    bytes = encodePublish(packet.topic, packet.payload, qos, packet.retain, v5)
    entry.byQos[slot] = bytes
  }
  return bytes
}

/**
 * A PUBLISH without properties (packet id 1 when QoS > 0; with `v5`, an empty
 * MQTT 5 property block), written straight into one buffer: mqtt-packet's
 * generate assembles it through a stream of small chunks.
 */
export function encodePublish (topic: string, payload: Buffer, qos: number, retain: boolean, v5 = false): Buffer {
  const topicLength = Buffer.byteLength(topic)
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.length
  if (remaining > MAX_REMAINING) throw new RangeError(`PUBLISH of ${remaining} bytes is larger than MQTT allows`)
  const lengthBytes = remaining < 0x80 ? 1 : remaining < 0x4000 ? 2 : remaining < 0x200000 ? 3 : 4
  const out = Buffer.allocUnsafe(1 + lengthBytes + remaining)
  out[0] = 0x30 | (qos << 1) | (retain ? 1 : 0)
  let at = 1
  for (let left = remaining; ; ) {
    const digit = left % 0x80
    left = Math.floor(left / 0x80)
    out[at++] = left > 0 ? digit | 0x80 : digit
    if (left === 0) break
  }
  out.writeUInt16BE(topicLength, at)
  at += 2
  at += out.write(topic, at, 'utf8')
  if (qos > 0) {
    out.writeUInt16BE(1, at)
    at += 2
  }
  if (v5) out[at++] = 0 // no properties
  payload.copy(out, at)
  return out
}

/** An MQTT 5 PUBLISH with its properties, by mqtt-packet. */
function encodeV5 (packet: OutPacket, qos: number, messageId?: number, dup = false): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic: packet.topic,
    payload: packet.payload,
    qos: qos as 0 | 1 | 2,
    retain: packet.retain,
    dup,
    ...(qos > 0 ? { messageId } : {}),
    ...(packet.properties !== undefined ? { properties: packet.properties } : {})
  }, { protocolVersion: 5 })
}
