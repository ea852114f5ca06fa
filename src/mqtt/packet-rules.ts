// Rules a client's packet must follow that the packet parser (mqtt-packet)
// does not check, applied to the parsed packet. MQTT 5 §4.13: a packet that
// breaks its encoding is a Malformed Packet (0x81), one that breaks the
// protocol otherwise a Protocol Error (0x82); 3.1.1 closes the connection for both.
import { isUtf8 } from 'node:buffer'
import { MALFORMED_PACKET, PROTOCOL_ERROR, type PropertyProblem } from './property-scan.js'
import { isShared, isValidTopicFilter } from './topic.js'

export const PACKET_TOO_LARGE = 0x95
const TOPIC_FILTER_INVALID = 0x8f
const TOPIC_NAME_INVALID = 0x90
const TOPIC_ALIAS_INVALID = 0x94

/** The fields of a parsed client packet the rules read. */
export interface ClientPacket {
  cmd: string
  qos?: number
  dup?: boolean
  topic?: string
  messageId?: number
  protocolVersion?: number
  will?: { qos?: number }
  username?: string
  password?: Buffer
  subscriptions?: Array<{ topic: string, nl?: boolean }>
  unsubscriptions?: string[]
  properties?: Record<string, unknown>
}

/** The first rule `packet` breaks, or undefined. */
export function brokenRule (packet: ClientPacket): PropertyProblem | undefined {
  switch (packet.cmd) {
    case 'connect': return connectRule(packet)
    case 'publish': return publishRule(packet)
    case 'subscribe': return packetIdRule(packet) ?? subscribeRule(packet)
    case 'unsubscribe':
      return packetIdRule(packet) ?? unsubscribeRule(packet.unsubscriptions ?? [])
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return packetIdRule(packet)
    case 'auth':
      // no enhanced authentication: a CONNECT with an Authentication Method gets CONNACK 0x8C from aedes,
      // and a client that sent none must not send AUTH (MQTT-4.12.0-5); 0x8C is no DISCONNECT reason
      return protocolError('an AUTH without an Authentication Method in the CONNECT (MQTT-4.12.0-5)')
    default:
      return undefined
  }
}

const SERVER_PACKETS = new Set(['connack', 'suback', 'unsuback', 'pingresp'])

/**
 * What the first byte of a packet already shows: type 0 is reserved (MQTT 5
 * §2.1.2, 3.1.1 §2.2.1), so is 15 before MQTT 5; CONNACK, SUBACK, UNSUBACK and
 * PINGRESP go from server to client only (§2.1.2, a Protocol Error).
 */
export function packetTypeRule (cmd: string | null, version: number | undefined): PropertyProblem | undefined {
  if (cmd === 'reserved') return malformed('packet type 0 is reserved (MQTT 5 §2.1.2)')
  if (cmd === 'auth' && version !== undefined && version < 5) return malformed('packet type 15 is reserved before MQTT 5 (3.1.1 §2.2.1)')
  if (cmd !== null && SERVER_PACKETS.has(cmd)) return protocolError(`a ${cmd.toUpperCase()} from a client (it goes from server to client only, MQTT 5 §2.1.2)`)
  return undefined
}

/**
 * A packet's fields against its Remaining Length (MQTT 5 §2.1.4, 3.1.1
 * §2.2.3): `read` bytes were read for them. A PUBLISH's payload takes what its
 * fields leave; every other packet's fields fill it exactly. Fields that run
 * past it or bytes left after them make a Malformed Packet.
 */
export function remainingLengthRule (cmd: string, read: number, length: number): PropertyProblem | undefined {
  if (cmd === 'publish' ? read <= length : read === length) return undefined
  return malformed(`a ${cmd.toUpperCase()} whose fields ${read > length ? 'run past' : 'stop short of'} its remaining length (${read} of ${length} bytes)`)
}

/** MQTT-1.5.5-1 (MQTT 5; 3.1.1 has no such rule): a variable byte integer takes the fewest bytes for its value. */
export function isShortestVarint (value: number, bytes: number): boolean {
  return bytes === (value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4)
}

function connectRule (packet: ClientPacket): PropertyProblem | undefined {
  if (packet.will?.qos === 3) return malformed('a CONNECT with Will QoS 3 (MQTT-3.1.2-14)')
  if ((packet.protocolVersion ?? 4) < 5 && packet.password !== undefined && packet.username === undefined) {
    return protocolError('a 3.1.1 CONNECT with a password but no user name (MQTT-3.1.2-22)')
  }
  return undefined
}

function publishRule (packet: ClientPacket): PropertyProblem | undefined {
  if (packet.qos === 0 && packet.dup === true) return malformed('a QoS 0 PUBLISH with DUP set (MQTT-3.3.1-2)')
  if ((packet.qos ?? 0) > 0) {
    const bad = packetIdRule(packet)
    if (bad !== undefined) return bad
  }
  if (packet.properties?.subscriptionIdentifier !== undefined) {
    return protocolError('a PUBLISH from a client carries a subscription identifier (MQTT-3.3.4-6)')
  }
  return packet.topic === undefined ? undefined : topicNameRule(packet.topic, packet.properties)
}

/**
 * A PUBLISH's topic name (checked before aedes resolves a Topic Alias, so the
 * reason is the same with or without one): no wildcards (MQTT-3.3.2-2, v5 0x90
 * Topic Name invalid), not empty unless a Topic Alias stands for it
 * (MQTT-4.7.3-1; MQTT 5 §3.3.2.3.4), a Response Topic without wildcards (MQTT-3.3.2-14).
 */
function topicNameRule (topic: string, properties: Record<string, unknown> | undefined): PropertyProblem | undefined {
  if (/[+#]/.test(topic)) return { reasonCode: TOPIC_NAME_INVALID, reason: `a wildcard in the PUBLISH topic name ${JSON.stringify(topic)} (MQTT-3.3.2-2)` }
  if (topic === '' && properties?.topicAlias === undefined) return protocolError('a PUBLISH with an empty topic name and no Topic Alias (MQTT-4.7.3-1)')
  const responseTopic = properties?.responseTopic
  if (typeof responseTopic === 'string' && /[+#]/.test(responseTopic)) return protocolError('a wildcard in the Response Topic (MQTT-3.3.2-14)')
  return undefined
}

function subscribeRule (packet: ClientPacket): PropertyProblem | undefined {
  const subscriptions = packet.subscriptions ?? []
  if (subscriptions.length === 0) return protocolError('a SUBSCRIBE without topic filters (MQTT-3.8.3-3)')
  // DISCONNECT 0x8F as VerneMQ sends (aedes would close without a word)
  if (subscriptions.some(s => !isValidTopicFilter(s.topic))) return { reasonCode: TOPIC_FILTER_INVALID, reason: 'a SUBSCRIBE has a malformed topic filter' }
  if (subscriptions.some(s => s.nl === true && isShared(s.topic))) {
    return protocolError('No Local on a shared subscription (MQTT-3.8.3-4)')
  }
  return undefined
}

function unsubscribeRule (filters: string[]): PropertyProblem | undefined {
  if (filters.length === 0) return protocolError('an UNSUBSCRIBE without topic filters (MQTT-3.10.3-2)')
  // aedes would close without a word; DISCONNECT 0x8F as for SUBSCRIBE
  if (filters.some(f => !isValidTopicFilter(f))) return { reasonCode: TOPIC_FILTER_INVALID, reason: 'an UNSUBSCRIBE has a malformed topic filter (§4.7)' }
  return undefined
}

/**
 * MQTT-3.3.2-9/10 (§3.3.2.3.4): a Topic Alias from a client is 1 up to the
 * Topic Alias Maximum of the node's CONNACK (none when it is 0), else DISCONNECT
 * 0x94. Checked as the packet is read, before a DISCONNECT that follows it in
 * the same read ends the connection (aedes would check it only when handling it).
 */
export function topicAliasRule (packet: ClientPacket, maximum: number): PropertyProblem | undefined {
  const alias = packet.properties?.topicAlias
  if (packet.cmd !== 'publish' || alias === undefined) return undefined
  if (typeof alias === 'number' && alias >= 1 && alias <= maximum) return undefined
  return { reasonCode: TOPIC_ALIAS_INVALID, reason: `Topic Alias ${String(alias)} outside 1..${maximum} (MQTT-3.3.2-9)` }
}

/** MQTT-2.2.1-3: packets that carry a packet identifier carry a non-zero one. */
function packetIdRule (packet: ClientPacket): PropertyProblem | undefined {
  return packet.messageId === 0 ? protocolError(`a ${packet.cmd.toUpperCase()} with packet identifier 0 (MQTT-2.2.1-3)`) : undefined
}

/**
 * True when a string field was not valid UTF-8 or held U+0000 (MQTT-1.5.4-1,
 * MQTT-1.5.4-2). The parser decodes bad bytes to U+FFFD, so two different byte
 * strings can decode alike; only then are the bytes themselves looked at.
 */
export function badUtf8 (decoded: string, bytes: () => Buffer): boolean {
  if (decoded.includes('\u0000')) return true
  return decoded.includes('\uFFFD') && !isUtf8(bytes())
}

/** badUtf8 for a string decoded from buf[start, end), without a function per call (the one-pass reader's every PUBLISH). */
export function badUtf8At (decoded: string, buf: Buffer, start: number, end: number): boolean {
  if (decoded.includes('\u0000')) return true
  return decoded.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))
}

/** mqtt-packet's messages for errors MQTT 5 §3.8.3.1 calls Protocol Errors; its other errors are bad encodings. */
const PARSER_PROTOCOL_ERRORS = new Set(['Invalid subscribe QoS, must be <= 2', 'Invalid retain handling, must be <= 2'])

/** The problem behind an error the packet parser emitted. */
export function parserError (message: string): PropertyProblem {
  return { reasonCode: PARSER_PROTOCOL_ERRORS.has(message) ? PROTOCOL_ERROR : MALFORMED_PACKET, reason: message }
}

export function malformed (reason: string): PropertyProblem {
  return { reasonCode: MALFORMED_PACKET, reason }
}

export function protocolError (reason: string): PropertyProblem {
  return { reasonCode: PROTOCOL_ERROR, reason }
}
