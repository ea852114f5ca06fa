// The fuzzer's oracle: what the bytes a session sent require of the node. The
// stream is cut into frames by their fixed headers; each frame goes alone
// through the reference parser (mqtt-packet, set to the version the CONNECT
// named) and then through the checks below, for the rules that parser does not
// enforce. The first broken rule names the frame at which the node must close
// the connection and the reason codes an MQTT 5 node may give (MQTT 5 §4.13:
// 0x81 Malformed Packet, 0x82 Protocol Error, or a more specific one).
import { isUtf8 } from 'node:buffer'
import mqttPacket from 'mqtt-packet'
import { brokenRule } from '../src/mqtt/packet-rules.js'
import { readVarint, scanProperties, type PropertyBlockOf } from '../src/mqtt/property-scan.js'
import { CONNECT_MAX_BYTES } from '../src/broker/packet-size.js'

const MALFORMED = 0x81
const PROTOCOL_ERROR = 0x82

export type Verdict =
  /** every whole frame is allowed: the node may keep the connection */
  | { kind: 'valid', frames: number }
  /** a well-formed DISCONNECT (or a CONNECT the node may refuse) ends the session: the node closes, no reason owed */
  | { kind: 'ends', frame: number, why: string }
  /** frame `frame` breaks `rule`: the node must close; v5 tells one of `codes` first (CONNACK when the CONNECT is bad, else DISCONNECT) */
  | { kind: 'bad', frame: number, rule: string, codes: number[], reply: 'connack' | 'disconnect' | 'none' }

interface Problem { rule: string, codes: number[] }

const bad = (rule: string, ...codes: number[]): Problem => ({ rule, codes: codes.length > 0 ? codes : [MALFORMED] })

/** One frame: its first byte, remaining length and body (when whole). */
interface Frame { first: number, length: number, lengthBytes: Buffer, body?: Buffer, end: number }

/** The frame at `at`, undefined when the stream ends before its length is known; a string for a bad length. */
function frameAt (stream: Buffer, at: number): Frame | string | undefined {
  if (at >= stream.length) return undefined
  const length = readVarint(stream, at + 1)
  if (length === undefined) {
    // four bytes with the continuation bit on the last: MQTT-1.5.5 (at most 4 bytes)
    return stream.length >= at + 5 ? 'remaining length longer than 4 bytes (MQTT 5 §1.5.5, 3.1.1 §2.2.3)' : undefined
  }
  const start = length.next
  const end = start + length.value
  return { first: stream[at], length: length.value, lengthBytes: stream.subarray(at + 1, start), body: end <= stream.length ? stream.subarray(start, end) : undefined, end }
}

/** The verdict for `stream`, the bytes of one session in order. */
export function judge (stream: Buffer): Verdict {
  let at = 0
  let version: number | undefined
  let connect: mqttPacket.IConnectPacket | undefined
  for (let index = 0; ; index++) {
    if (at >= stream.length) return { kind: 'valid', frames: index }
    // the first byte alone can break a rule: the node can close before the length arrives
    const early = typeProblem(stream[at], index, version)
    if (early !== undefined) return verdictOf(index, early, index === 0 ? 'none' : version === 5 ? 'disconnect' : 'none')
    const frame = frameAt(stream, at)
    if (frame === undefined) return { kind: 'valid', frames: index }
    const reply = version === undefined ? (index === 0 ? 'connack' : 'none') : version === 5 ? 'disconnect' : 'none'
    if (typeof frame === 'string') return { kind: 'bad', frame: index, rule: frame, codes: [MALFORMED], reply: version === 5 ? reply : 'none' }
    const type = frame.first >> 4
    const header = headerProblem(frame, version)
    if (header !== undefined) return verdictOf(index, header, index === 0 ? 'none' : version === 5 ? 'disconnect' : 'none')
    if (frame.body === undefined) return { kind: 'valid', frames: index }
    if (index === 0) {
      const result = judgeConnect(frame)
      if ('problem' in result) return verdictOf(0, result.problem, result.version === 5 ? 'connack' : 'none')
      if ('ends' in result) return { kind: 'ends', frame: 0, why: result.ends }
      connect = result.packet
      version = connect.protocolVersion
      at = frame.end
      continue
    }
    const v = version as number
    const parsed = parse(frame, v)
    const problem = typeof parsed === 'string'
      ? parserProblem(parsed)
      : bodyProblem(type, frame.first, frame.body, v) ?? semanticProblem(parsed, v, connect as mqttPacket.IConnectPacket)
    if (problem !== undefined) return verdictOf(index, problem, v === 5 ? 'disconnect' : 'none')
    if (type === 14) return { kind: 'ends', frame: index, why: 'DISCONNECT' }
    at = frame.end
  }
}

function verdictOf (frame: number, problem: Problem, reply: 'connack' | 'disconnect' | 'none'): Verdict {
  return { kind: 'bad', frame, rule: problem.rule, codes: problem.codes, reply }
}

/** What the first byte of a frame shows. */
function typeProblem (first: number, index: number, version: number | undefined): Problem | undefined {
  const type = first >> 4
  const flags = first & 0x0f
  if (type === 0) return bad('packet type 0 is reserved (MQTT 5 §2.1.2, 3.1.1 §2.2.1)')
  if (type === 15 && version !== undefined && version < 5) return bad('packet type 15 is reserved in 3.1.1 (§2.2.1)')
  if (type === 3) {
    if ((flags & 0x06) === 0x06) return bad('a PUBLISH with QoS 3 (MQTT-3.3.1-4)')
  } else {
    const required = type === 6 || type === 8 || type === 10 ? 0x02 : 0x00
    if (flags !== required) return bad(`reserved flags 0x${flags.toString(16)} on packet type ${type} (MQTT-2.2.2-1/2)`)
  }
  // after the flags, as the reference parser checks them while reading the first byte
  if (index === 0 && type !== 1) return bad('the first packet is not a CONNECT (MQTT-3.1.0-1)', PROTOCOL_ERROR)
  if (index > 0 && type === 1) return bad('a second CONNECT (MQTT-3.1.0-2)', PROTOCOL_ERROR)
  if ([2, 9, 11, 13].includes(type)) return bad(`a server-to-client packet type ${type} from a client (MQTT 5 §2.1.2)`, PROTOCOL_ERROR, MALFORMED)
  return undefined
}

/** What the fixed header shows once its remaining length is known (the node can close before the body arrives). */
function headerProblem (frame: Frame, version: number | undefined): Problem | undefined {
  const type = frame.first >> 4
  // MQTT-1.5.5-1 (MQTT 5 only; 3.1.1 states no such rule): the fewest bytes for the remaining length
  if (version === 5 && frame.lengthBytes.length > 1 && frame.lengthBytes[frame.lengthBytes.length - 1] === 0) {
    return bad('remaining length not in the fewest bytes (MQTT-1.5.5-1)')
  }
  if (type === 1 && frame.length > CONNECT_MAX_BYTES) return bad(`a CONNECT of ${frame.length} bytes (the node reads at most ${CONNECT_MAX_BYTES})`, 0x95)
  return undefined
}

/** The reference parser's reading of one whole frame, or its error message. */
function parse (frame: Frame, protocolVersion: number): mqttPacket.Packet | string {
  const parser = mqttPacket.parser({ protocolVersion })
  let packet: mqttPacket.Packet | undefined
  let error: string | undefined
  parser.on('packet', p => { packet ??= p })
  parser.on('error', e => { error ??= e.message })
  parser.parse(Buffer.concat([Buffer.from([frame.first]), frame.lengthBytes, frame.body as Buffer]))
  return error ?? packet ?? 'the reference parser emitted nothing'
}

/** MQTT 5 §3.8.3.1: QoS 3 and Retain Handling 3 in a subscription are Protocol Errors; other parser errors are bad encodings. */
function parserProblem (message: string): Problem {
  if (/subscribe QoS|retain handling/.test(message)) return bad(`reference parser: ${message}`, PROTOCOL_ERROR)
  return bad(`reference parser: ${message}`, MALFORMED, PROTOCOL_ERROR)
}

type ConnectResult = { packet: mqttPacket.IConnectPacket } | { problem: Problem, version?: number } | { ends: string }

function judgeConnect (frame: Frame): ConnectResult {
  const body = frame.body as Buffer
  const version = body.length >= 7 && body.readUInt16BE(0) === 4 ? body[6] & 0x7f : undefined
  const parsed = parse(frame, 4)
  if (typeof parsed === 'string') {
    // MQTT-3.1.2-2 (3.1.1) / §3.1.2.2 (5): an unsupported protocol level is refused, then the connection closed
    if (parsed === 'Invalid protocol version') return { ends: 'unsupported protocol level (MQTT-3.1.2-2)' }
    // MQTT-3.1.2-1: a wrong protocol name MAY be answered either way
    if (parsed === 'Invalid protocolId') return { ends: 'unknown protocol name (MQTT-3.1.2-1)' }
    return { problem: parserProblem(parsed), version }
  }
  const packet = parsed as mqttPacket.IConnectPacket
  const v = packet.protocolVersion ?? 4
  if ((packet.protocolId === 'MQTT') !== (v !== 3)) return { ends: `protocol name ${packet.protocolId} with level ${v} (MQTT-3.1.2-1)` }
  const problem = bodyProblem(1, frame.first, body, v) ?? ruleProblem(packet)
  if (problem !== undefined) return { problem, version: v }
  const p = packet.properties ?? {}
  // CONNECTs the node refuses with a CONNACK code, as the specification lets it
  if (v < 5 && packet.clientId === '' && !packet.clean) return { ends: 'empty client id without clean session (MQTT-3.1.3-8)' }
  if (v === 5 && p.authenticationMethod !== undefined) return { ends: 'enhanced authentication is not offered (MQTT-4.12.0-1)' }
  return { packet }
}

function ruleProblem (packet: mqttPacket.Packet): Problem | undefined {
  const problem = brokenRule(packet as unknown as Parameters<typeof brokenRule>[0])
  return problem === undefined ? undefined : { rule: problem.reason, codes: [problem.reasonCode] }
}

/** The rules for a parsed packet after the CONNECT that need more than its bytes. */
function semanticProblem (packet: mqttPacket.Packet, version: number, connect: mqttPacket.IConnectPacket): Problem | undefined {
  // packet-rules.ts: packet ids, QoS 0 DUP, subscription ids, topic names (wildcards, empty, Response Topic), topic filters, AUTH
  const rule = ruleProblem(packet)
  if (rule !== undefined) return rule
  switch (packet.cmd) {
    case 'publish': {
      // MQTT-3.3.2-8/9/10: an alias of 0 or above the Topic Alias Maximum of the CONNACK (the node's default is 0)
      if (packet.properties?.topicAlias !== undefined) return bad('a Topic Alias the node did not offer (MQTT-3.3.2-9)', 0x94)
      return undefined
    }
    case 'disconnect': {
      const expiry = Number(packet.properties?.sessionExpiryInterval ?? 0)
      if (version === 5 && expiry > 0 && Number(connect.properties?.sessionExpiryInterval ?? 0) === 0) {
        return bad('a DISCONNECT sets a Session Expiry Interval the CONNECT did not (MQTT-3.14.2-2)', PROTOCOL_ERROR)
      }
      return undefined
    }
    default:
      return undefined
  }
}

/** A cursor over a frame's body that records the first structural problem. */
class Body {
  at = 0
  problem: Problem | undefined
  constructor (readonly b: Buffer, readonly version: number) {}
  fail (p: Problem): undefined { this.problem ??= p; return undefined }
  left (): number { return this.b.length - this.at }
  bytes (n: number, what: string): Buffer | undefined {
    if (this.problem !== undefined) return undefined
    if (this.left() < n) return this.fail(bad(`${what} runs past the end of the packet`))
    this.at += n
    return this.b.subarray(this.at - n, this.at)
  }

  u8 (what: string): number | undefined { return this.bytes(1, what)?.[0] }
  u16 (what: string): number | undefined { return this.bytes(2, what)?.readUInt16BE(0) }
  binary (what: string): Buffer | undefined {
    const n = this.u16(what)
    return n === undefined ? undefined : this.bytes(n, what)
  }

  /** MQTT-1.5.4-1/2 (5), MQTT-1.5.3-1/2 (3.1.1): well-formed UTF-8 without U+0000 */
  string (what: string): string | undefined {
    const raw = this.binary(what)
    if (raw === undefined) return undefined
    if (!isUtf8(raw) || raw.includes(0)) return this.fail(bad(`${what} is not well-formed UTF-8 or holds U+0000 (MQTT-1.5.4-1/2)`))
    return raw.toString('utf8')
  }

  properties (kind: PropertyBlockOf): void {
    if (this.problem !== undefined || this.version !== 5) return
    const length = readVarint(this.b, this.at)
    if (length === undefined || length.next > this.b.length) { this.fail(bad('property length runs past the end of the packet')); return }
    const end = length.next + length.value
    if (end > this.b.length) { this.fail(bad('property length runs past the end of the packet')); return }
    // MQTT 5 §2.2.2.2: whole, known, allowed in this packet, repeated only when User Property, UTF-8 strings, allowed values
    const scanned = scanProperties(this.b.subarray(this.at, end), kind)
    if (scanned !== undefined) { this.fail({ rule: scanned.reason, codes: [scanned.reasonCode] }); return }
    this.at = end
  }

  /** Bytes left over after the last field: the remaining length does not match (a Malformed Packet). */
  done (what: string): Problem | undefined {
    if (this.problem === undefined && this.left() !== 0) this.fail(bad(`${this.left()} bytes after the last field of ${what}`))
    return this.problem
  }
}

/** The structure of a frame's body, field by field, for the rules the reference parser does not check. */
function bodyProblem (type: number, first: number, b: Buffer, version: number): Problem | undefined {
  const r = new Body(b, version)
  switch (type) {
    case 1: {
      r.string('protocol name')
      r.bytes(1, 'protocol level')
      const flags = r.u8('connect flags') ?? 0
      r.u16('keep alive')
      r.properties('connect')
      r.string('client identifier')
      if ((flags & 0x04) !== 0) {
        r.properties('will')
        r.string('will topic')
        r.binary('will payload')
      }
      if ((flags & 0x80) !== 0) r.string('user name')
      if ((flags & 0x40) !== 0) r.binary('password')
      return r.done('CONNECT')
    }
    case 3: {
      r.string('topic name')
      if ((first & 0x06) !== 0) r.u16('packet identifier')
      r.properties('publish')
      return r.problem // the payload is the rest
    }
    case 4: case 5: case 6: case 7:
      r.u16('packet identifier')
      // MQTT 5 §3.4.2.1: the reason code and properties may be left out from the end
      if (version === 5 && r.left() > 0) r.u8('reason code')
      if (version === 5 && r.left() > 0) r.properties('ack')
      return r.done('an acknowledgement')
    case 8:
      r.u16('packet identifier')
      r.properties('subscribe')
      if (r.left() === 0 && r.problem === undefined) return bad('a SUBSCRIBE without topic filters (MQTT-3.8.3-3)', PROTOCOL_ERROR, MALFORMED)
      while (r.left() > 0 && r.problem === undefined) { r.string('topic filter'); r.u8('subscription options') }
      return r.done('SUBSCRIBE')
    case 10:
      r.u16('packet identifier')
      r.properties('unsubscribe')
      if (r.left() === 0 && r.problem === undefined) return bad('an UNSUBSCRIBE without topic filters (MQTT-3.10.3-2)', PROTOCOL_ERROR, MALFORMED)
      while (r.left() > 0 && r.problem === undefined) r.string('topic filter')
      return r.done('UNSUBSCRIBE')
    case 12:
      return r.done('PINGREQ')
    case 14:
    case 15:
      // MQTT 5 §3.14.2.1, §3.15.2.1: a remaining length of 0 means reason 0x00 and no properties
      if (version === 5 && r.left() > 0) r.u8('reason code')
      if (version === 5 && r.left() > 0) r.properties(type === 14 ? 'disconnect' : 'auth')
      return r.done(type === 14 ? 'DISCONNECT' : 'AUTH')
    default:
      return undefined
  }
}
