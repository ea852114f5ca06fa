// Value encoding for stored packets and records.
//
//   [0]      format byte (1)
//   [1]      payload kind: 0 none, 1 Buffer, 2 string
//   [2..5]   length of the JSON part (uint32 BE)
//   JSON     scalar fields (string, number, boolean, null)
//   [2]      length of the undefined-key list (uint16 BE), then the keys as a JSON array
//   [4]      length of the object part (uint32 BE), then v8-serialized object fields
//            (MQTT 5 properties, correlation data Buffers, ...); absent for v3/v4 packets
//   rest     payload bytes
//
// The scalar part is JSON, not v8 serialization, because it is about three times
// faster for the common packet; keys whose value is `undefined` are kept (aedes
// and its test suite tell `messageId: undefined` from no messageId).
// Function-valued fields (aedes' writeCallback) are never stored.
//
// Queued outgoing packets (format 2) carry a small binary header in front of
// that, with what the queue index needs, so a store with many queued messages
// reopens without parsing each packet:
//
//   [0] 2, [1] flags (1 messageId, 2 brokerCounter, 4 brokerId),
//   [2..3] messageId, [4..11] brokerCounter (float64), [12] brokerId length,
//   brokerId, then the packet in format 1
//
// A journaled message is queued with its journal entry as the packet: the
// origin is then in the header only, and decoding takes it from there.
//
// A queued message shared by several clients' queues (format 3) names them in
// front of its queued packet:
//
//   [0] 3, [1..4] length of the names (uint32 BE), the client ids as a JSON
//   array, then the packet in format 2
import v8 from 'node:v8'

const FORMAT = 1
const QUEUED_FORMAT = 2
const SHARED_FORMAT = 3
const SHARED_HEADER = 5
const HAS_MESSAGE_ID = 1
const HAS_COUNTER = 2
const HAS_BROKER_ID = 4
const QUEUED_HEADER = 13
const NO_PAYLOAD = 0
const BUFFER_PAYLOAD = 1
const STRING_PAYLOAD = 2

export type Stored = Record<string, unknown>

export function encodeValue (value: object): Buffer {
  const scalars: Stored = {}
  const undefinedKeys: string[] = []
  let objects: Stored | undefined
  const source = value as Stored
  for (const key of Object.keys(source)) {
    if (key === 'payload') continue
    const field = source[key]
    if (field === undefined) {
      undefinedKeys.push(key)
    } else if (typeof field === 'function') {
      continue
    } else if (typeof field === 'object' && field !== null) {
      objects ??= {}
      objects[key] = field
    } else {
      scalars[key] = field
    }
  }
  const payload = source.payload
  const payloadKind = payload === undefined || payload === null
    ? NO_PAYLOAD
    : typeof payload === 'string' ? STRING_PAYLOAD : BUFFER_PAYLOAD
  const payloadBytes = payloadKind === NO_PAYLOAD
    ? undefined
    : payloadKind === STRING_PAYLOAD ? Buffer.from(payload as string) : toBuffer(payload)

  const json = Buffer.from(JSON.stringify(scalars))
  const undef = undefinedKeys.length > 0 ? Buffer.from(JSON.stringify(undefinedKeys)) : undefined
  const objectBytes = objects !== undefined ? v8.serialize(objects) : undefined
  const size = 12 + json.length + (undef?.length ?? 0) + (objectBytes?.length ?? 0) + (payloadBytes?.length ?? 0)
  const out = Buffer.allocUnsafe(size)
  out[0] = FORMAT
  out[1] = payloadKind
  out.writeUInt32BE(json.length, 2)
  let at = 6 + put(out, json, 6)
  at = out.writeUInt16BE(undef?.length ?? 0, at)
  if (undef !== undefined) at += put(out, undef, at)
  at = out.writeUInt32BE(objectBytes?.length ?? 0, at)
  if (objectBytes !== undefined) at += put(out, objectBytes, at)
  if (payloadBytes !== undefined) put(out, payloadBytes, at)
  return out
}

export interface QueuedMeta {
  messageId: number | undefined
  brokerId: string | undefined
  brokerCounter: number | undefined
}

export function encodeQueued (packet: object): Buffer {
  const p = packet as Stored
  const messageId = typeof p.messageId === 'number' ? p.messageId : undefined
  const counter = typeof p.brokerCounter === 'number' ? p.brokerCounter : undefined
  let brokerId = typeof p.brokerId === 'string' ? Buffer.from(p.brokerId) : undefined
  if (brokerId !== undefined && brokerId.length > 255) brokerId = undefined
  return queuedWithHeader(encodeValue(packet), messageId, counter, brokerId)
}

/**
 * A queued packet from an encoded one (encodeValue) that has no origin fields:
 * the origin goes in the header, and decodeValue adds it to the packet.
 * Undefined when the broker id does not fit the header.
 */
export function encodeQueuedFrom (body: Buffer, brokerId: string, brokerCounter: number): Buffer | undefined {
  const id = Buffer.from(brokerId)
  if (id.length > 255) return undefined
  return queuedWithHeader(body, undefined, brokerCounter, id)
}

function queuedWithHeader (body: Buffer, messageId: number | undefined, counter: number | undefined, brokerId: Buffer | undefined): Buffer {
  const out = Buffer.allocUnsafe(QUEUED_HEADER + (brokerId?.length ?? 0) + body.length)
  out[0] = QUEUED_FORMAT
  out[1] = (messageId !== undefined ? HAS_MESSAGE_ID : 0) | (counter !== undefined ? HAS_COUNTER : 0) |
    (brokerId !== undefined ? HAS_BROKER_ID : 0)
  out.writeUInt16BE(messageId ?? 0, 2)
  out.writeDoubleBE(counter ?? 0, 4)
  out[12] = brokerId?.length ?? 0
  let at = QUEUED_HEADER
  if (brokerId !== undefined) at += put(out, brokerId, at)
  put(out, body, at)
  return out
}

/** A copy of an encoded queued packet with its packet id set (the rest of the packet as it was queued). */
export function withMessageId (queued: Buffer, messageId: number): Buffer {
  const out = Buffer.from(queued)
  out[1] |= HAS_MESSAGE_ID
  out.writeUInt16BE(messageId, 2)
  return out
}

/** The client ids part of a shared message (encodeShared). */
export function encodeNames (clientIds: string[]): Buffer {
  return Buffer.from(JSON.stringify(clientIds))
}

/** A shared message: `names` from encodeNames, `queued` from encodeQueued. */
export function encodeShared (names: Buffer, queued: Buffer): Buffer {
  const out = Buffer.allocUnsafe(SHARED_HEADER + names.length + queued.length)
  out[0] = SHARED_FORMAT
  out.writeUInt32BE(names.length, 1)
  put(out, names, SHARED_HEADER)
  put(out, queued, SHARED_HEADER + names.length)
  return out
}

/** The client ids a shared queued message names. */
export function sharedRecipients (buf: Buffer): string[] {
  if (buf.length < SHARED_HEADER || buf[0] !== SHARED_FORMAT) {
    throw new Error(`unreadable shared message (format byte ${buf[0]}, ${buf.length} bytes)`)
  }
  const ids = JSON.parse(buf.toString('utf8', SHARED_HEADER, SHARED_HEADER + buf.readUInt32BE(1))) as unknown
  if (!Array.isArray(ids) || !ids.every(id => typeof id === 'string')) throw new Error('unreadable shared message: its client ids are not a list of strings')
  return ids
}

/** The queued packet (format 2) in a shared message, or the value itself. */
export function queuedPart (buf: Buffer): Buffer {
  return buf[0] === SHARED_FORMAT ? buf.subarray(SHARED_HEADER + buf.readUInt32BE(1)) : buf
}

/** The queue index fields of a queued packet, without decoding the packet. */
export function decodeQueuedMeta (buf: Buffer): QueuedMeta {
  buf = queuedPart(buf)
  if (buf.length < QUEUED_HEADER || buf[0] !== QUEUED_FORMAT) {
    throw new Error(`unreadable queued message (format byte ${buf[0]}, ${buf.length} bytes)`)
  }
  const flags = buf[1]
  return {
    messageId: (flags & HAS_MESSAGE_ID) !== 0 ? buf.readUInt16BE(2) : undefined,
    brokerCounter: (flags & HAS_COUNTER) !== 0 ? buf.readDoubleBE(4) : undefined,
    brokerId: (flags & HAS_BROKER_ID) !== 0 ? buf.toString('utf8', QUEUED_HEADER, QUEUED_HEADER + buf[12]) : undefined
  }
}

export function decodeValue (buf: Buffer): Stored {
  buf = queuedPart(buf)
  const header = buf[0] === QUEUED_FORMAT ? buf : undefined
  if (header !== undefined) buf = buf.subarray(QUEUED_HEADER + header[12])
  const { value, end } = decodeFields(buf)
  const kind = buf[1]
  if (kind === BUFFER_PAYLOAD) value.payload = buf.subarray(end)
  else if (kind === STRING_PAYLOAD) value.payload = buf.toString('utf8', end)
  if (header !== undefined) fromHeader(header, value)
  return value
}

/** The header's packet id wins (withMessageId sets it there only); its origin fills in a journal entry's (encodeQueuedFrom). */
function fromHeader (header: Buffer, value: Stored): void {
  const flags = header[1]
  if ((flags & HAS_MESSAGE_ID) !== 0) value.messageId = header.readUInt16BE(2)
  if ((flags & HAS_BROKER_ID) !== 0 && !Object.hasOwn(value, 'brokerId')) value.brokerId = header.toString('utf8', QUEUED_HEADER, QUEUED_HEADER + header[12])
  if ((flags & HAS_COUNTER) !== 0 && !Object.hasOwn(value, 'brokerCounter')) value.brokerCounter = header.readDoubleBE(4)
}

function decodeFields (buf: Buffer): { value: Stored, end: number } {
  checkFormat(buf)
  const jsonLength = buf.readUInt32BE(2)
  let at = 6
  const value = JSON.parse(buf.toString('utf8', at, at + jsonLength)) as Stored
  at += jsonLength
  const undefLength = buf.readUInt16BE(at)
  at += 2
  if (undefLength > 0) {
    const keys = JSON.parse(buf.toString('utf8', at, at + undefLength)) as string[]
    for (const key of keys) value[key] = undefined
    at += undefLength
  }
  const objectLength = buf.readUInt32BE(at)
  at += 4
  if (objectLength > 0) {
    Object.assign(value, v8.deserialize(buf.subarray(at, at + objectLength)))
    at += objectLength
  }
  return { value, end: at }
}

function checkFormat (buf: Buffer): void {
  if (buf.length < 12 || buf[0] !== FORMAT) {
    throw new Error(`unreadable stored value (format byte ${buf[0]}, ${buf.length} bytes)`)
  }
}

/** Copies `src` into `out` at `at`; TypedArray.set, without Buffer.copy's argument checks (a few per stored message). */
function put (out: Buffer, src: Uint8Array, at: number): number {
  out.set(src, at)
  return src.length
}

function toBuffer (payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return Buffer.from(String(payload))
}
