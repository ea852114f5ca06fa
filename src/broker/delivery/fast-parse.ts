// PUBLISH and PUBACK, the packets connected clients send most, read straight
// from the bytes of one read. mqtt-packet appends every read to a BufferList and
// slices and consumes it field by field (a Buffer object or a copy each time);
// for a whole packet inside one read with nothing unusual in it, this builds the
// same packet object in one pass. Anything else (another type, a packet cut by
// the end of the read, MQTT 5 properties, a length not in the fewest bytes,
// QoS 3, a PUBACK with a reason code) is left to mqtt-packet, which reads it
// and reports what is wrong with it as before.

/** The object mqtt-packet makes for a packet (its Packet class), with the fields read here. */
export interface FastPacket {
  cmd: string | null
  retain: boolean
  qos: number
  dup: boolean
  length: number
  topic: string | null
  payload: Buffer | null
  messageId?: number
  reasonCode?: number
}

const PUBLISH = 3
const PUBACK = 4

/**
 * Reads one packet at a time (see next). What it read stays in its fields until
 * the next call: one reader serves every connection, read from one at a time.
 */
export class FastReader {
  /** the packet read by the last successful next() */
  packet: FastPacket | undefined = undefined
  /** bytes of the body read before the payload: mqtt-packet's _pos at its 'packet' event */
  bodyRead = 0
  /** where the PUBLISH's topic bytes are in the buffer */
  topicStart = 0
  topicEnd = 0

  /**
   * Reads the packet at `offset` of `buf` into `packet` (made by `create`, an
   * the constructor of mqtt-packet's Packet) and returns the offset after it, or -1 when the
   * packet is left to mqtt-packet. `version` is the connection's protocol level.
   */
  next (buf: Buffer, offset: number, version: number, create: new () => FastPacket): number {
    const end = buf.length
    const first = buf[offset]
    const type = first >> 4
    if (type !== PUBLISH && type !== PUBACK) return -1
    // Remaining Length, in the fewest bytes (else mqtt-packet and the guard say what is wrong)
    let pos = offset + 1
    let length = 0
    let shift = 1
    for (let i = 0; ; i++) {
      if (i === 4 || pos >= end) return -1
      const byte = buf[pos++]
      length += (byte & 0x7f) * shift
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) return -1
        break
      }
      shift *= 0x80
    }
    const bodyEnd = pos + length
    if (bodyEnd > end) return -1
    return type === PUBLISH
      ? this.publish(buf, first, pos, bodyEnd, length, version, create)
      : this.puback(buf, first, pos, length, version, create)
  }

  private publish (buf: Buffer, first: number, start: number, bodyEnd: number, length: number, version: number, create: new () => FastPacket): number {
    const qos = (first >> 1) & 3
    if (qos === 3) return -1
    let pos = start + 2
    if (pos > bodyEnd) return -1
    const topicEnd = pos + buf.readUInt16BE(start)
    if (topicEnd > bodyEnd) return -1
    const topicStart = pos
    pos = topicEnd
    let messageId: number | undefined
    if (qos > 0) {
      if (pos + 2 > bodyEnd) return -1
      messageId = buf.readUInt16BE(pos)
      pos += 2
    }
    if (version === 5) {
      // an empty property block; one with properties is left to mqtt-packet and the guard's checks
      if (pos >= bodyEnd || buf[pos] !== 0) return -1
      pos++
    }
    const packet = new create()
    packet.cmd = 'publish'
    packet.retain = (first & 1) !== 0
    packet.qos = qos
    packet.dup = (first & 8) !== 0
    packet.length = length
    packet.topic = buf.toString('utf8', topicStart, topicEnd)
    if (messageId !== undefined) packet.messageId = messageId
    packet.payload = buf.subarray(pos, bodyEnd)
    this.packet = packet
    this.bodyRead = pos - start
    this.topicStart = topicStart
    this.topicEnd = topicEnd
    return bodyEnd
  }

  private puback (buf: Buffer, first: number, start: number, length: number, version: number, create: new () => FastPacket): number {
    if (first !== 0x40) return -1
    // a packet id alone; MQTT 5 may add reason 0x00 and an empty property block
    // (other reasons and properties are left to mqtt-packet)
    if (length < 2 || length > (version === 5 ? 4 : 2)) return -1
    if ((length > 2 && buf[start + 2] !== 0) || (length > 3 && buf[start + 3] !== 0)) return -1
    const packet = new create()
    packet.cmd = 'puback'
    packet.length = length
    packet.messageId = buf.readUInt16BE(start)
    if (version === 5) packet.reasonCode = 0
    this.packet = packet
    this.bodyRead = length
    return start + length
  }
}
