// A byte-level check of an MQTT 5 property block as a client sent it, before
// the parsed packet reaches the broker. The packet parser folds a repeated
// property into an array (or keeps the last one when the first was 0) and reads
// a string that runs past the block's end into the bytes after it; both reach
// the broker as values no MQTT 5 client can send (MQTT 5 §2.2.2.2).
import { isUtf8 } from 'node:buffer'

/** MQTT 5 reason codes a bad property block earns */
export const MALFORMED_PACKET = 0x81
export const PROTOCOL_ERROR = 0x82

export interface PropertyProblem { reasonCode: number, reason: string }

type Kind = 'byte' | 'int16' | 'int32' | 'varint' | 'string' | 'binary' | 'pair'

const KINDS: Record<number, [string, Kind]> = {
  0x01: ['payload format indicator', 'byte'],
  0x02: ['message expiry interval', 'int32'],
  0x03: ['content type', 'string'],
  0x08: ['response topic', 'string'],
  0x09: ['correlation data', 'binary'],
  0x0b: ['subscription identifier', 'varint'],
  0x11: ['session expiry interval', 'int32'],
  0x12: ['assigned client identifier', 'string'],
  0x13: ['server keep alive', 'int16'],
  0x15: ['authentication method', 'string'],
  0x16: ['authentication data', 'binary'],
  0x17: ['request problem information', 'byte'],
  0x18: ['will delay interval', 'int32'],
  0x19: ['request response information', 'byte'],
  0x1a: ['response information', 'string'],
  0x1c: ['server reference', 'string'],
  0x1f: ['reason string', 'string'],
  0x21: ['receive maximum', 'int16'],
  0x22: ['topic alias maximum', 'int16'],
  0x23: ['topic alias', 'int16'],
  0x24: ['maximum qos', 'byte'],
  0x25: ['retain available', 'byte'],
  0x26: ['user property', 'pair'],
  0x27: ['maximum packet size', 'int32'],
  0x28: ['wildcard subscription available', 'byte'],
  0x29: ['subscription identifier available', 'byte'],
  0x2a: ['shared subscription available', 'byte']
}

const FIXED: Partial<Record<Kind, number>> = { byte: 1, int16: 2, int32: 4 }
const USER_PROPERTY = 0x26

/** Which property block of a client's packet is scanned. */
export type PropertyBlockOf = 'connect' | 'will' | 'publish' | 'ack' | 'subscribe' | 'unsubscribe' | 'disconnect' | 'auth'

/**
 * MQTT 5 §2.2.2.2 (Table 2-4): the properties a client's packet may carry; an
 * identifier not valid for its packet type makes it a Malformed Packet.
 */
const ALLOWED: Record<PropertyBlockOf, ReadonlySet<number>> = {
  connect: new Set([0x11, 0x21, 0x27, 0x22, 0x19, 0x17, USER_PROPERTY, 0x15, 0x16]),
  will: new Set([0x18, 0x01, 0x02, 0x03, 0x08, 0x09, USER_PROPERTY]),
  publish: new Set([0x01, 0x02, 0x23, 0x08, 0x09, USER_PROPERTY, 0x0b, 0x03]),
  ack: new Set([0x1f, USER_PROPERTY]),
  subscribe: new Set([0x0b, USER_PROPERTY]),
  unsubscribe: new Set([USER_PROPERTY]),
  disconnect: new Set([0x11, 0x1f, USER_PROPERTY, 0x1c]),
  auth: new Set([0x15, 0x16, 0x1f, USER_PROPERTY])
}

/**
 * Values the specification calls a Protocol Error: Request Problem / Response
 * Information other than 0 or 1 (§3.1.2.11.6, §3.1.2.11.7), Payload Format
 * Indicator other than 0 or 1 (§3.3.2.3.2), Receive Maximum 0 (§3.1.2.11.3),
 * Maximum Packet Size 0 (§3.1.2.11.4), Subscription Identifier 0 (§3.8.2.1.2).
 */
function valueProblem (id: number, name: string, block: Buffer, at: number): PropertyProblem | undefined {
  const kind = KINDS[id][1]
  const value = kind === 'byte' ? block[at] : kind === 'int16' ? block.readUInt16BE(at) : kind === 'int32' ? block.readUInt32BE(at) : kind === 'varint' ? readVarint(block, at)?.value : undefined
  if ((id === 0x01 || id === 0x17 || id === 0x19) && (value as number) > 1) return { reasonCode: PROTOCOL_ERROR, reason: `${name} property is ${String(value)}, not 0 or 1` }
  if ((id === 0x21 || id === 0x27 || id === 0x0b) && value === 0) return { reasonCode: PROTOCOL_ERROR, reason: `${name} property is 0` }
  return undefined
}

/**
 * Checks the property block at the start of `block` (its length varint first).
 * Returns the first problem, or undefined when every property is whole, known,
 * valid UTF-8 without U+0000 where it is a string, none but User Property
 * is repeated (the only property a client may send more than once) and, when
 * `of` names the packet, each is allowed there with an allowed value.
 */
export function scanProperties (block: Buffer, of?: PropertyBlockOf): PropertyProblem | undefined {
  const length = readVarint(block, 0)
  if (length === undefined) return malformed('property length is not a valid variable byte integer')
  const end = length.next + length.value
  if (end > block.length) return malformed('property length runs past the end of the packet')
  const seen = new Set<number>()
  let at = length.next
  while (at < end) {
    const id = block[at++]
    const known = KINDS[id]
    if (known === undefined) return malformed(`unknown property 0x${id.toString(16).padStart(2, '0')}`)
    const [name, kind] = known
    if (of !== undefined && !ALLOWED[of].has(id)) return malformed(`${name} property is not allowed in ${of === 'ack' ? 'an acknowledgement' : of === 'will' ? 'the will' : `a ${of.toUpperCase()}`} (MQTT 5 §2.2.2.2)`)
    if (id !== USER_PROPERTY) {
      if (seen.has(id)) return { reasonCode: PROTOCOL_ERROR, reason: `${name} property given more than once` }
      seen.add(id)
    }
    const next = skipValue(block, at, end, kind)
    if (next === undefined) return malformed(`${name} property runs past the end of the property block`)
    if (next === 'bad-utf8') return malformed(`${name} property is not valid UTF-8 (or contains U+0000)`)
    const bad = valueProblem(id, name, block, at)
    if (bad !== undefined) return bad
    at = next
  }
  return undefined
}

/** The offset after a value of `kind` at `at`, or why it is bad. */
function skipValue (block: Buffer, at: number, end: number, kind: Kind): number | 'bad-utf8' | undefined {
  const fixed = FIXED[kind]
  if (fixed !== undefined) return at + fixed <= end ? at + fixed : undefined
  if (kind === 'varint') {
    const v = readVarint(block, at)
    return v !== undefined && v.next <= end ? v.next : undefined
  }
  const first = skipLengthPrefixed(block, at, end, kind === 'binary')
  if (kind !== 'pair' || typeof first !== 'number') return first
  return skipLengthPrefixed(block, first, end, false)
}

function skipLengthPrefixed (block: Buffer, at: number, end: number, binary: boolean): number | 'bad-utf8' | undefined {
  if (at + 2 > end) return undefined
  const next = at + 2 + block.readUInt16BE(at)
  if (next > end) return undefined
  if (binary) return next
  const text = block.subarray(at + 2, next)
  return isUtf8(text) && !text.includes(0) ? next : 'bad-utf8'
}

/** An MQTT variable byte integer (at most four bytes). */
export function readVarint (buf: Buffer, at: number): { value: number, next: number } | undefined {
  let value = 0
  for (let i = 0; i < 4; i++) {
    if (at + i >= buf.length) return undefined
    const byte = buf[at + i]
    value += (byte & 0x7f) * 128 ** i
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 }
  }
  return undefined
}

function malformed (reason: string): PropertyProblem {
  return { reasonCode: MALFORMED_PACKET, reason }
}
