// One trace line per MQTT packet: the packet's type and main fields, in the
// spirit of VerneMQ's tracer (`PUBLISH(d0, q1, r0, m7, "a/b")`). Passwords and
// authentication data are never shown; payloads are cut to `truncPayload` bytes.
import type mqttPacket from 'mqtt-packet'

const CONNACK_V4 = ['success', 'unsupported_protocol_version', 'client_identifier_not_valid', 'server_unavailable', 'bad_username_or_password', 'not_authorized']

type AnyPacket = mqttPacket.Packet & Record<string, unknown>

export function describePacket (packet: mqttPacket.Packet, truncPayload: number): string {
  const p = packet as AnyPacket
  switch (packet.cmd) {
    case 'connect': {
      const c = packet
      const will = c.will === undefined || c.will === null ? '' : `, will: ${quote(c.will.topic)} q${c.will.qos ?? 0} r${flag(c.will.retain)}`
      return `CONNECT(c: ${quote(c.clientId)}, v: ${c.protocolVersion ?? 4}, u: ${c.username === undefined ? 'undefined' : quote(c.username)}, cs: ${flag(c.clean)}, ka: ${c.keepalive}${will})`
    }
    case 'connack': {
      const c = packet
      const code = c.reasonCode ?? c.returnCode ?? 0
      const name = c.reasonCode === undefined ? ` ${CONNACK_V4[code] ?? 'unknown'}` : ''
      return `CONNACK(sp: ${flag(c.sessionPresent)}, rc: ${hex(code, c.reasonCode !== undefined)}${name})`
    }
    case 'publish': {
      const m = packet.messageId === undefined ? '' : `, m${packet.messageId}`
      // MQTT 5: a topic sent as an alias only is "" on the wire
      const alias = packet.properties?.topicAlias === undefined ? '' : `, alias ${packet.properties.topicAlias}`
      return `PUBLISH(d${flag(packet.dup)}, q${packet.qos}, r${flag(packet.retain)}${m}, ${quote(packet.topic)}${alias}) payload: ${payload(packet.payload, truncPayload)}`
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
    case 'unsuback':
      return `${packet.cmd.toUpperCase()}(m${String(p.messageId)}${reason(p.reasonCode)})`
    case 'subscribe':
      return `SUBSCRIBE(m${packet.messageId}, ${packet.subscriptions.map(s => `q${s.qos} ${quote(s.topic)}`).join(', ')})`
    case 'suback':
      return `SUBACK(m${packet.messageId}, [${packet.granted.map(g => typeof g === 'number' ? hex(g, g >= 0x80) : String(g)).join(', ')}])`
    case 'unsubscribe':
      return `UNSUBSCRIBE(m${packet.messageId}, ${packet.unsubscriptions.map(quote).join(', ')})`
    case 'pingreq':
    case 'pingresp':
      return `${packet.cmd.toUpperCase()}()`
    case 'disconnect':
    case 'auth':
      return `${packet.cmd.toUpperCase()}(${p.reasonCode === undefined ? '' : `rc: ${hex(p.reasonCode as number, true)}`})`
    default:
      return String(p.cmd).toUpperCase()
  }
}

/** In double quotes, every control character (C0, DEL, C1) escaped: lines go to a terminal. */
function quote (text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f]/g, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

function flag (value: boolean | undefined): number {
  return value === true ? 1 : 0
}

function hex (code: number, asHex: boolean): string {
  return asHex ? '0x' + code.toString(16).padStart(2, '0') : String(code)
}

function reason (code: unknown): string {
  return typeof code === 'number' && code !== 0 ? `, rc: ${hex(code, true)}` : ''
}

/** The payload as UTF-8 text in quotes (control characters escaped), cut to `max` bytes. */
function payload (bytes: Buffer | string, max: number): string {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
  const more = buffer.length > max ? ` (${buffer.length} bytes, first ${max} shown)` : ''
  return quote(buffer.subarray(0, max).toString('utf8')) + more
}
