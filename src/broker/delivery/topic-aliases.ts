// MQTT 5 topic aliases towards a client (topic_alias_max_client), applied to
// the bytes written to its connection, so every path that writes a PUBLISH
// (aedes, the direct writes, resends) gets them, in the order they go out.
// The first PUBLISH of a topic carries the topic and a new alias; later ones
// an empty topic and the alias (MQTT 5 §3.3.2.3.4). Aliases belong to one
// network connection (MQTT-3.3.2-7): each connection starts with none.
// Once all aliases are taken they stay with their topics; other topics go out
// in full, without an alias.

import { readVarint } from '../../mqtt/property-scan.js'
import { PacketStream, varintSize, writeVarint } from './packet-stream.js'

const PUBLISH = 3
const TOPIC_ALIAS = 0x23

/** Where the parts of a PUBLISH start, once enough of it has arrived. */
interface PublishHead {
  /** the whole packet's length */
  total: number
  topic: string
  /** offset of the packet id (QoS > 0) or of the property length */
  afterTopic: number
  /** offset of the property length */
  lengthAt: number
  /** offset of the property block (after its length) and its length */
  props: number
  propsLength: number
}

export class OutgoingTopicAliases {
  private readonly aliases = new Map<string, number>()
  private readonly stream: PacketStream

  /**
   * @param max aliases this connection may use (the smaller of the setting and the client's maximum)
   * @param maxPacketSize the client's Maximum Packet Size, if any: an alias is not added past it
   */
  constructor (private readonly max: number, private readonly maxPacketSize: number | undefined) {
    this.stream = new PacketStream({
      headLength: (bytes, type, fixed, total) => {
        if (type !== PUBLISH) return 0
        const head = readPublishHead(bytes, fixed, total)
        return head === undefined ? undefined : head.props + head.propsLength
      },
      rewrite: (head, total) => {
        const parsed = readPublishHead(head, (readVarint(head, 1) as { next: number }).next, total) as PublishHead
        return this.aliased(head, parsed) ?? head
      }
    })
  }

  /** The bytes to write for `chunk`: packets pass unchanged, except the head of each PUBLISH. */
  rewrite (chunk: Buffer): Buffer[] {
    return this.stream.write(chunk)
  }

  /** The head with the topic replaced by an alias (or given one), or undefined to send it as it is. */
  private aliased (bytes: Buffer, head: PublishHead): Buffer | undefined {
    if (hasTopicAlias(bytes.subarray(head.props, head.props + head.propsLength))) return undefined
    let alias = this.aliases.get(head.topic)
    const known = alias !== undefined
    if (alias === undefined) {
      if (this.aliases.size >= this.max) return undefined
      alias = this.aliases.size + 1
    }
    const topic = known ? Buffer.alloc(0) : Buffer.from(head.topic, 'utf8')
    const packetId = bytes.subarray(head.afterTopic, head.lengthAt)
    const propsLength = head.propsLength + 3
    const payload = head.total - head.props - head.propsLength
    const remaining = 2 + topic.length + packetId.length + varintSize(propsLength) + propsLength + payload
    const size = 1 + varintSize(remaining) + remaining
    if (!known && this.maxPacketSize !== undefined && this.maxPacketSize > 0 && size > this.maxPacketSize) return undefined
    if (!known) this.aliases.set(head.topic, alias)
    const out = Buffer.allocUnsafe(size - payload)
    let at = 0
    out[at++] = bytes[0]
    at = writeVarint(out, at, remaining)
    out.writeUInt16BE(topic.length, at)
    at += 2
    at += topic.copy(out, at)
    at += packetId.copy(out, at)
    at = writeVarint(out, at, propsLength)
    at += bytes.copy(out, at, head.props, head.props + head.propsLength)
    out[at++] = TOPIC_ALIAS
    out.writeUInt16BE(alias, at)
    return out
  }
}

function readPublishHead (bytes: Buffer, fixed: number, total: number): PublishHead | undefined {
  if (bytes.length < fixed + 2) return undefined
  const topicLength = bytes.readUInt16BE(fixed)
  const qos = (bytes[0] >> 1) & 3
  const afterTopic = fixed + 2 + topicLength
  const lengthAt = afterTopic + (qos > 0 ? 2 : 0)
  if (bytes.length < lengthAt + 1) return undefined
  const propsLength = readVarint(bytes, lengthAt)
  if (propsLength === undefined) return undefined
  if (bytes.length < propsLength.next + propsLength.value || propsLength.next + propsLength.value > total) return undefined
  return {
    total,
    topic: bytes.toString('utf8', fixed + 2, afterTopic),
    afterTopic,
    lengthAt,
    props: propsLength.next,
    propsLength: propsLength.value
  }
}

/** Property ids whose values have a fixed size, and how many bytes (MQTT 5 §2.2.2.2). */
const FIXED_SIZE: Record<number, number> = { 0x01: 1, 0x02: 4, 0x23: 2 }

/** Whether a PUBLISH property block already holds a Topic Alias (it would then be left alone). */
function hasTopicAlias (props: Buffer): boolean {
  let at = 0
  while (at < props.length) {
    const id = props[at++]
    if (id === TOPIC_ALIAS) return true
    const fixedSize = FIXED_SIZE[id]
    if (fixedSize !== undefined) at += fixedSize
    else if (id === 0x0b) {
      const v = readVarint(props, at)
      if (v === undefined) return true
      at = v.next
    } else if (id === 0x26) {
      at += 2 + props.readUInt16BE(at)
      at += 2 + props.readUInt16BE(at)
    } else if (id === 0x03 || id === 0x08 || id === 0x09) {
      at += 2 + props.readUInt16BE(at)
    } else {
      return true // unknown to a PUBLISH: leave the packet as it is
    }
  }
  return false
}
