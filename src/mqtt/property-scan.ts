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

/**
 * Checks the property block at the start of `block` (its length varint first).
 * Returns the first problem, or undefined when every property is whole, known,
 * valid UTF-8 without U+0000 where it is a string, and none but User Property
 * is repeated (the only property a client may send more than once).
 */
export function scanProperties (block: Buffer): PropertyProblem | undefined {
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
    if (id !== USER_PROPERTY) {
      if (seen.has(id)) return { reasonCode: PROTOCOL_ERROR, reason: `${name} property given more than once` }
      seen.add(id)
    }
    const next = skipValue(block, at, end, kind)
    if (next === undefined) return malformed(`${name} property runs past the end of the property block`)
    if (next === 'bad-utf8') return malformed(`${name} property is not valid UTF-8 (or contains U+0000)`)
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
