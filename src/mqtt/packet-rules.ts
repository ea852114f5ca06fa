// Rules a client's packet must follow that the packet parser (mqtt-packet)
// does not check, applied to the parsed packet. MQTT 5 §4.13: a packet that
// breaks its encoding is a Malformed Packet (0x81), one that breaks the
// protocol otherwise a Protocol Error (0x82); 3.1.1 closes the connection for both.
import { isUtf8 } from 'node:buffer'
import { MALFORMED_PACKET, PROTOCOL_ERROR, type PropertyProblem } from './property-scan.js'
import { isShared, isValidTopicFilter } from './topic.js'

export const PACKET_TOO_LARGE = 0x95
const TOPIC_FILTER_INVALID = 0x8f

/** The fields of a parsed client packet the rules read. */
export interface ClientPacket {
  cmd: string
  qos?: number
  dup?: boolean
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
      return packetIdRule(packet) ??
        (packet.unsubscriptions?.length === 0 ? protocolError('an UNSUBSCRIBE without topic filters (MQTT-3.10.3-2)') : undefined)
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return packetIdRule(packet)
    default:
      return undefined
  }
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
