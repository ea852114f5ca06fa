// Splits the bytes a broker sends into MQTT packets without building packet objects:
// the load generator only needs the type, a few header bytes and the payload's send time.
// Framer reads MQTT 3.1.1, Framer5 MQTT 5; a client picks one when it connects, so the
// 3.1.1 path has no per-packet protocol test.
import type { ProtocolVersion } from './packets.js'

export interface FrameSink {
  connack (returnCode: number): void
  suback (grantedQos: number): void
  /** `payloadStart`..`end` is the payload inside `buf`; `packetId` is 0 at QoS 0. */
  publish (buf: Buffer, payloadStart: number, end: number, qos: number, dup: boolean, packetId: number): void
  puback (packetId: number): void
}

export class Framer {
  private rest: Buffer | null = null

  constructor (protected readonly sink: FrameSink) {}

  push (chunk: Buffer): void {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk])
    this.rest = null
    let pos = 0
    const len = buf.length
    while (pos < len) {
      // Fixed header: type byte, then a 1-4 byte variable length.
      if (pos + 2 > len) break
      let remaining = 0
      let multiplier = 1
      let cursor = pos + 1
      let complete = false
      for (let i = 0; i < 4 && cursor < len; i++) {
        const b = buf[cursor++]
        remaining += (b & 0x7f) * multiplier
        multiplier *= 128
        if ((b & 0x80) === 0) { complete = true; break }
      }
      if (!complete || cursor + remaining > len) break
      this.dispatch(buf, buf[pos], cursor, cursor + remaining)
      pos = cursor + remaining
    }
    if (pos < len) this.rest = buf.subarray(pos)
  }

  protected dispatch (buf: Buffer, first: number, body: number, end: number): void {
    const type = first >> 4
    if (type === 3) {
      const qos = (first >> 1) & 3
      const topicLength = buf.readUInt16BE(body)
      let cursor = body + 2 + topicLength
      let packetId = 0
      if (qos > 0) {
        packetId = buf.readUInt16BE(cursor)
        cursor += 2
      }
      this.sink.publish(buf, cursor, end, qos, (first & 8) !== 0, packetId)
    } else if (type === 4) {
      this.sink.puback(buf.readUInt16BE(body))
    } else if (type === 2) {
      this.sink.connack(buf[body + 1])
    } else if (type === 9) {
      this.sink.suback(buf[end - 1])
    }
  }
}

/**
 * MQTT 5: a PUBLISH has a property block (variable-length size, then the properties) between the
 * packet id and the payload, e.g. a Subscription Identifier (MQTT 5 3.3.2.3). CONNACK keeps its
 * reason code at the same place as the 3.1.1 return code; SUBACK puts properties before the reason
 * codes, so the last byte is still the code of a one-filter SUBSCRIBE; PUBACK starts with the packet id.
 */
export class Framer5 extends Framer {
  protected override dispatch (buf: Buffer, first: number, body: number, end: number): void {
    if ((first >> 4) !== 3) {
      super.dispatch(buf, first, body, end)
      return
    }
    const qos = (first >> 1) & 3
    let cursor = body + 2 + buf.readUInt16BE(body)
    let packetId = 0
    if (qos > 0) {
      packetId = buf.readUInt16BE(cursor)
      cursor += 2
    }
    let propertiesLength = 0
    let multiplier = 1
    for (let i = 0; i < 4; i++) {
      const b = buf[cursor++]
      propertiesLength += (b & 0x7f) * multiplier
      multiplier *= 128
      if ((b & 0x80) === 0) break
    }
    this.sink.publish(buf, cursor + propertiesLength, end, qos, (first & 8) !== 0, packetId)
  }
}

export function framerFor (protocol: ProtocolVersion, sink: FrameSink): Framer {
  return protocol === 5 ? new Framer5(sink) : new Framer(sink)
}
