// Everything the delivery layer relies on in aedes 2.0.0-beta.1 beyond its
// documented API, in one place. test/unit/broker/delivery/adapter.test.ts
// checks each of these against the installed aedes and fails if it changes.
//
// 1. authorizeForward(client, packet) may return a DIFFERENT packet object; aedes
//    sends that one, keeping its `messageId` (when set) and `dup`. We preassign
//    packet ids this way, so we know which id each delivery uses.
// 2. client.publish(packet) runs the packet through authorizeForward, after
//    aedes' per-client duplicate check (`brokerId` + increasing `brokerCounter`).
//    We deliver a held-back message by publishing a stub with our own brokerId
//    and a fresh counter; authorizeForward swaps in the real packet.
// 3. The only authorizeForward calls whose packet already has a `messageId` are
//    aedes' replay of the stored queue at CONNECT (lib/handlers/connect.js
//    emptyQueue); live, retained and client.publish packets have none.
// 4. client.subscriptions maps each filter of the connection to { qos, si }
//    (si: its MQTT 5 Subscription Identifier, when it has one), and
//    aedes caps a delivery at the QoS of a filter equal to the topic.
// 5. A client.publish to a persistent session stores the stub through
//    persistence.outgoingEnqueue (the tap skips it) before delivering it.
// 6. The parser's 'packet' event shows every PUBACK, PUBREC and PUBCOMP before
//    aedes handles it (onParsedPacket: the outbox learns acks there; the
//    parser's `client` is its connection's Client, so one listener serves every
//    connection); aedes
//    then clears a persistent session's stored copy with
//    outgoingClearMessageId(client, ack) (an MQTT 5 PUBREC with an error reason
//    too); a forward refused for a persistent session is cleared without a messageId.
// 7. Every subscriber's copy of a message shares the payload Buffer, and a null
//    from authorizeForward for QoS 0 sends nothing (writer.ts writeQos0 relies on both).
// 8. A PUBLISH marked `_notAuthorized` in authorizePublish is neither
//    acknowledged nor published; a PUBREL for a packet id aedes never stored
//    is answered with PUBCOMP. authorizePublish failing for MQTT 5 answers a
//    QoS 1/2 PUBLISH with reason 0x87 and the error's message as reason string.
//    For an authorized QoS 1 PUBLISH aedes writes PUBACK (3.1.1: 40 02 id;
//    MQTT 5: 40 04 id 00 00), then calls broker.publish(packet, client, done),
//    which emits 'publish' with that packet synchronously after the
//    `published` hook's callback.
// 14. broker.publish(packet, client, done) takes the publishing client as an
//     optional second argument, as aedes' PUBLISH handler passes it: the
//     routed copy gets its id as clientId (MQTT 5 No Local), and it reaches the
//     `published` hook and the 'publish' event. The client need not belong to
//     that broker. Pinned in adapter.test.ts.
// 16. broker.clients[id] is the connected Client with that id until it closes,
//     and a Client whose `_disconnected` is true when it closes (aedes sets it
//     when a DISCONNECT arrives) publishes no will and deletes its stored one.
// (The parser guard's reliances are listed in adapter-guard.ts.)
import type { EventEmitter } from 'node:events'
import type { Aedes, Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { PacketStream } from './packet-stream.js'
import type { OutPacket } from './out-packet.js'

export type { OutPacket }

/** brokerId of the stubs that carry held-back messages through client.publish */
export const INJECTED_BROKER_ID = '\u0000vmq-queue'


let injections = 0

/**
 * Sends `packet` to the client at `qos` through aedes (so its QoS bookkeeping
 * and the session's stored queue see it). `pending` maps the stub's counter to
 * the packet until authorizeForward asks for it (see takeInjected).
 */
export function publishStub (client: Client, packet: OutPacket, qos: number, pending: Map<number, OutPacket>): void {
  const counter = ++injections
  pending.set(counter, packet)
  const stub = {
    cmd: 'publish' as const,
    topic: packet.topic,
    payload: packet.payload,
    qos: qos as 0 | 1 | 2,
    retain: packet.retain,
    dup: false,
    brokerId: INJECTED_BROKER_ID,
    brokerCounter: counter
  }
  client.publish(stub as Parameters<Client['publish']>[0], noop)
}

type ParsedPacketListener = (packet: { cmd: string, messageId?: number, reasonCode?: number }, client: Client) => void

/** the parser's 'packet' listener of each ParsedPacketListener (aedes sets parser.client) */
const parserListeners = new WeakMap<ParsedPacketListener, (this: { client: Client }, packet: { cmd: string }) => void>()

function parserListener (listener: ParsedPacketListener): (this: { client: Client }, packet: { cmd: string }) => void {
  let wrapped = parserListeners.get(listener)
  if (wrapped === undefined) {
    wrapped = function (packet) { listener(packet, this.client) }
    parserListeners.set(listener, wrapped)
  }
  return wrapped
}

/**
 * Calls `listener` with every packet aedes' parser reads from the client,
 * before aedes handles it (the parser is `client._parser`, not a public API;
 * aedes sets `client._parser.client`). One listener given to every connection
 * costs a connection no function of its own.
 */
export function onParsedPacket (client: Client, listener: ParsedPacketListener): void {
  const parser = (client as unknown as { _parser?: EventEmitter })._parser
  const wrapped = parserListener(listener)
  observers.add(wrapped)
  parser?.prependListener('packet', wrapped)
}

const observers = new WeakSet<object>()

/** True for a listener of onParsedPacket, as opposed to aedes' own handling of packets. */
export function isPacketObserver (listener: object): boolean {
  return observers.has(listener)
}

/**
 * Makes aedes neither acknowledge nor publish a PUBLISH authorizePublish lets
 * through (see 8. above).
 */
export function skipPublish (packet: object): void {
  (packet as { _notAuthorized?: boolean })._notAuthorized = true
}

/**
 * Acknowledges a QoS 1/2 PUBLISH that goes to nobody: PUBACK, or PUBREC (aedes
 * answers the PUBREL with PUBCOMP), without reason code (3.1/3.1.1), or with
 * `reasonCode` and no properties (MQTT 5; a failure code ends a QoS 2 exchange
 * at the PUBREC).
 */
export function acknowledgeSkipped (client: Client, packet: { qos: number, messageId?: number }, reasonCode?: number): void {
  if (packet.qos === 0 || packet.messageId === undefined) return
  const cmd = packet.qos === 1 ? 'puback' : 'pubrec'
  writeRaw(client, reasonCode === undefined ? { cmd, messageId: packet.messageId } : { cmd, messageId: packet.messageId, reasonCode })
}

/** True for packets aedes replays from the stored queue at CONNECT (see 3. above). */
export function isStoredReplay (packet: OutPacket): boolean {
  return packet.messageId !== undefined
}

interface SubscriptionLike { qos: number, si?: number }

/** The connection's filters, their granted QoS and MQTT 5 Subscription Identifier (see 4. above). */
export function subscriptionsOf (client: Client): Record<string, SubscriptionLike> {
  return (client as unknown as { subscriptions: Record<string, SubscriptionLike> }).subscriptions
}

/**
 * Writes a PUBLISH (a resend, with DUP), a PUBREL or an acknowledgement straight
 * to the connection: aedes has no public call to send these with a given packet id.
 * client.conn, client.version and client.connecting are documented.
 */
export function writeRaw (client: Client, packet: mqttPacket.IPublishPacket | mqttPacket.IPubrelPacket | mqttPacket.IPubackPacket | mqttPacket.IPubrecPacket | mqttPacket.IDisconnectPacket): void {
  if (client.closed || !(client.connected || client.connecting)) return
  const version = client.version === 3 || client.version === 5 ? client.version : 4
  try {
    mqttPacket.writeToStream(packet, client.conn as unknown as NodeJS.WritableStream, { protocolVersion: version })
  } catch {
    // a packet that cannot be serialised was serialised once already; nothing to resend
  }
}

/**
 * Writes an MQTT 5 AUTH packet straight to the connection: aedes has no AUTH
 * flow, and before the CONNECT reaches aedes the client has no version yet.
 */
export function writeAuth (client: Client, packet: mqttPacket.IAuthPacket): void {
  const conn = client.conn as unknown as NodeJS.WritableStream & { destroyed?: boolean }
  if (conn.destroyed === true || client.closed) return
  let bytes: Buffer
  try {
    // one write: the CONNACK rewrite (onConnack) lets a whole AUTH pass before the CONNACK
    bytes = mqttPacket.generate(packet, { protocolVersion: 5 })
  } catch {
    return // properties that cannot be encoded: nothing is sent, the client times out
  }
  conn.write(bytes)
}

function noop (): void {}

// ---- CONNECT, CONNACK and inbound packets (src/broker/connack.ts,
// src/broker/inbound-quota.ts, src/broker/shared-v5.ts). Pinned by test/unit/broker/delivery/adapter-connect.test.ts:
// 9. aedes writes the CONNACK as the first bytes of a connection, through
//    client.conn.write, and builds its Session Present flag and MQTT 5
//    properties itself with no hook in between (lib/handlers/connect.js).
// 10. lib/handlers/subscribe.js doSubscribe refuses a `$share/` filter of an
//    MQTT 5 client with 0x9E after reading client.version; nothing else in the
//    SUBSCRIBE path treats `$share/` filters differently.
// 11. broker.topicAliasMaximum is read at every CONNACK and every aliased PUBLISH.
// 15. aedes goes on with the CONNECT packet it gave preConnect: a clientId or
//    clean set there before the callback is the connection's id and clean
//    flag (client.id, client.clean, the session looked up and stored).

const CONNACK_TYPE = 2
const AUTH_TYPE = 15

/**
 * In preConnect: the client id and clean flag the connection goes on with
 * (an extra session's internal id; the ones an auth plugin registered it with).
 */
export function connectAs (packet: mqttPacket.IConnectPacket, as: { clientId?: string, clean?: boolean }): void {
  if (as.clientId !== undefined) packet.clientId = as.clientId
  if (as.clean !== undefined) packet.clean = as.clean
}

/**
 * Calls `edit` with the connection's CONNACK (parsed) before it is written,
 * and writes what `edit` leaves instead. mqtt-packet writes a CONNACK in
 * several pieces; they are collected until the packet is whole. Bytes that do
 * not parse as a CONNACK of `protocolVersion`, or written while it is undefined
 * (no CONNECT handled yet), go out unchanged. An AUTH before the CONNACK
 * (enhanced authentication, written whole by writeAuth) goes out and the
 * CONNACK is still waited for.
 */
export function onConnack (client: Client, protocolVersion: () => number | undefined, edit: (connack: mqttPacket.IConnackPacket) => void): void {
  const conn = client.conn as unknown as { write: (chunk: unknown, ...rest: unknown[]) => boolean }
  const own = Object.prototype.hasOwnProperty.call(conn, 'write')
  const write = conn.write
  const stop = (): void => {
    if (own) conn.write = write
    else delete (conn as { write?: unknown }).write
  }
  let pieces: Buffer[] | undefined
  conn.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    if (pieces === undefined) {
      if (Buffer.isBuffer(chunk) && chunk[0] >> 4 === AUTH_TYPE) return write.call(this, chunk, ...rest)
      if (!Buffer.isBuffer(chunk) || chunk[0] >> 4 !== CONNACK_TYPE) {
        stop()
        return write.call(this, chunk, ...rest)
      }
      pieces = []
    }
    pieces.push(Buffer.from(chunk as Buffer))
    const bytes = Buffer.concat(pieces)
    if (!isWhole(bytes)) return true
    stop()
    const version = protocolVersion()
    // not from aedes' CONNECT handling (the guard refusing a CONNECT): as it is
    if (version === undefined) return write.call(this, bytes, ...rest)
    if (version !== 5) return write.call(this, editShortConnack(bytes, edit), ...rest)
    const packet = parse(bytes, version)
    if (packet?.cmd !== 'connack') return write.call(this, bytes, ...rest)
    edit(packet)
    return write.call(this, mqttPacket.generate(packet, { protocolVersion: version }), ...rest)
  }
}

/**
 * A 3.1/3.1.1 CONNACK (two body bytes: flags, return code) edited without
 * building a parser for it (that cost more than the rest of the CONNACK's
 * path): the same bytes when `edit` changes nothing, or when they are not such
 * a CONNACK (mqtt-packet refuses flags other than Session Present).
 */
function editShortConnack (bytes: Buffer, edit: (connack: mqttPacket.IConnackPacket) => void): Buffer {
  if (bytes.length !== 4 || bytes[1] !== 2 || bytes[2] > 1) return bytes
  const packet: mqttPacket.IConnackPacket = { cmd: 'connack', sessionPresent: bytes[2] === 1, returnCode: bytes[3] }
  edit(packet)
  const flags = packet.sessionPresent ? 1 : 0
  const code = packet.returnCode ?? 0
  if (flags === bytes[2] && code === bytes[3]) return bytes
  return Buffer.from([CONNACK_TYPE << 4, 2, flags, code])
}

/** Whether `bytes` hold a whole MQTT packet (fixed header, remaining length, body). */
function isWhole (bytes: Buffer): boolean {
  let remaining = 0
  for (let i = 1, shift = 0; i < bytes.length && i <= 4; i++, shift += 7) {
    remaining += (bytes[i] & 0x7f) * 2 ** shift
    if ((bytes[i] & 0x80) === 0) return bytes.length >= i + 1 + remaining
  }
  return false
}

function parse (bytes: Buffer, protocolVersion: number): mqttPacket.IConnackPacket | undefined {
  let got: mqttPacket.Packet | undefined
  const parser = mqttPacket.parser({ protocolVersion })
  parser.on('packet', p => { got = p })
  parser.on('error', () => { got = undefined })
  parser.parse(bytes)
  return got as mqttPacket.IConnackPacket | undefined
}

/**
 * Lets an MQTT 5 client subscribe to `$share/` filters (see 10. above) until
 * restoreShareRefusal: the client reads as version 4 to doSubscribe's check
 * only, found by its caller's name. Lifted only while a SUBSCRIBE with such a
 * filter, or the CONNECT that may restore them, is handled: an accessor on
 * every MQTT 5 client made each read of client.version a call and the
 * delivery path measurably slower.
 */
export function liftShareRefusal (client: Client): void {
  const own = Object.getOwnPropertyDescriptor(client, 'version')
  if (own?.get !== undefined) return
  let version: unknown = own?.value
  function read (): unknown {
    if (version !== 5) return version
    return calledFromDoSubscribe(read) ? 4 : version
  }
  Object.defineProperty(client, 'version', {
    configurable: true,
    enumerable: true,
    get: read,
    set (value: unknown) { version = value }
  })
}

/** Ends liftShareRefusal: client.version is a plain field again. */
export function restoreShareRefusal (client: Client): void {
  const own = Object.getOwnPropertyDescriptor(client, 'version')
  if (own?.get === undefined) return
  const version: unknown = own.get.call(client)
  Object.defineProperty(client, 'version', { value: version, writable: true, configurable: true, enumerable: true })
}

function calledFromDoSubscribe (getter: () => unknown): boolean {
  const holder: { stack?: string } = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 1
  Error.captureStackTrace(holder, getter)
  Error.stackTraceLimit = limit
  return holder.stack?.includes('doSubscribe (') === true
}

/** Calls `listener` after aedes has handled each packet it handles as it is parsed. */
export function afterParsedPacket (client: Client, listener: (packet: { cmd: string }) => void): void {
  const parser = (client as unknown as { _parser?: EventEmitter })._parser
  parser?.on('packet', listener)
}

/**
 * Writes a packet and flushes the connection at once: for a packet that must
 * reach the client before aedes destroys the connection in the same turn.
 */
export function writeNow (client: Client, packet: mqttPacket.Packet): void {
  const conn = client.conn as unknown as NodeJS.WritableStream & { writableCorked?: number, uncork?: () => void, destroyed?: boolean }
  if (conn.destroyed === true) return
  const version = client.version === 3 || client.version === 5 ? client.version : 4
  try {
    mqttPacket.writeToStream(packet, conn, { protocolVersion: version })
  } catch {
    return
  }
  for (let i = 0; i < 16 && (conn.writableCorked ?? 0) > 0; i++) conn.uncork?.()
}

/**
 * An authorized QoS 1 PUBLISH of a connected client, answered and published
 * here, at once: aedes would encode the same PUBACK through mqtt-packet and
 * publish a turn later (its write completes through setImmediate). The PUBACK
 * bytes are aedes' (3.1.1: 4 bytes; MQTT 5: reason 0 and an empty property
 * block). `done` (authorizePublish's callback) runs once the publish did, with
 * the packet marked so that aedes neither acknowledges nor publishes it again
 * (see 8. above): aedes reads on only then, as after its own publish.
 */
export function acknowledgeAndPublish (client: Client, packet: mqttPacket.IPublishPacket, done: (err: Error | null) => void): boolean {
  const messageId = packet.messageId
  if (packet.qos !== 1 || messageId === undefined || client.closed || !client.connected || isSkipped(packet)) return false
  const v5 = client.version === 5
  const ack = Buffer.allocUnsafe(v5 ? 6 : 4)
  ack[0] = 0x40
  ack[1] = v5 ? 4 : 2
  ack.writeUInt16BE(messageId, 2)
  if (v5) ack.writeUInt16BE(0, 4)
  client.conn.write(ack)
  publishAs((client as unknown as { broker: Aedes }).broker, packet, client, err => {
    // marked once aedes has emitted 'publish' for it, right after this callback: it was published
    queueMicrotask(() => {
      skipPublish(packet)
      done(null)
      // as aedes' read loop would on a failed publish: the connection ends
      if (err != null) client.emit('error', err)
    })
  })
  return true
}

/** The connected client of the same broker and id that `client` takes over, if any (see 16. above). */
export function connectedWithId (client: Client): Client | undefined {
  const existing = (client as unknown as { broker: { clients: Record<string, Client | undefined> } }).broker.clients[client.id]
  return existing === client ? undefined : existing
}

/** The client closes without publishing its will, as after a DISCONNECT (see 16. above). */
export function dropWill (client: Client): void {
  (client as unknown as { _disconnected: boolean })._disconnected = true
}

/** Publishes `packet` in `broker` on behalf of `client` (see 14. above). */
export function publishAs (broker: Aedes, packet: mqttPacket.IPublishPacket, client: Client, done: (err?: Error) => void): void {
  (broker.publish as unknown as (p: mqttPacket.IPublishPacket, c: Client, d: (err?: Error) => void) => void).call(broker, packet, client, done)
}

/** True for a PUBLISH skipPublish marked (see 8. above). */
export function isSkipped (packet: object): boolean {
  return (packet as { _notAuthorized?: boolean })._notAuthorized === true
}

/** Topic aliases accepted from clients, for CONNACKs and aliased PUBLISHes from now on (see 11. above). */
export function setTopicAliasMaximum (broker: unknown, max: number): void {
  (broker as { topicAliasMaximum: number }).topicAliasMaximum = max
}

// ---- Outgoing topic aliases (src/broker/delivery/topic-aliases.ts).
// 12. Every byte aedes and this module send a connection after its CONNACK goes
//     through client.conn.write (mqtt-packet's writeToStream writes a packet
//     as consecutive pieces, in one turn), Buffers or utf8 strings. Pinned in
//     test/unit/broker/delivery/adapter.test.ts.
// 13. A subscription authorizeSubscribe refuses gets 0x87 in an MQTT 5 SUBACK
//     (128 before 5), whose codes follow the SUBSCRIBE's subscriptions as
//     deduplicated in place (packet.subscriptions). Pinned in adapter-connect.test.ts.

type WriteCallback = (err?: Error | null) => void

/**
 * Passes every chunk written to the connection from now on through `rewrite`
 * (which may hold bytes back until a packet's head is whole), until `finished`
 * says it is done (checked before each chunk; nothing may be held back then).
 * Call it when the CONNACK is being written or later: the CONNACK itself does
 * not pass through.
 */
export function rewriteWrites (client: Client, rewrite: (chunk: Buffer) => Buffer[], finished: () => boolean = () => false): void {
  const conn = client.conn as unknown as { write: (chunk: unknown, ...rest: unknown[]) => boolean, writableNeedDrain?: boolean }
  const own = Object.prototype.hasOwnProperty.call(conn, 'write')
  const write = conn.write
  let waiting: WriteCallback[] = []
  conn.write = function rewritten (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    if (finished()) {
      if (conn.write === rewritten) {
        if (own) conn.write = write
        else delete (conn as { write?: unknown }).write
      }
      return write.call(this, chunk, ...rest)
    }
    const encoding = typeof rest[0] === 'string' ? rest[0] as BufferEncoding : 'utf8'
    const callback = rest.find(r => typeof r === 'function') as WriteCallback | undefined
    if (callback !== undefined) waiting.push(callback)
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding)
    const out = rewrite(bytes)
    let result = conn.writableNeedDrain !== true
    for (let i = 0; i < out.length; i++) {
      if (i < out.length - 1 || waiting.length === 0) {
        result = write.call(this, out[i])
        continue
      }
      const callbacks = waiting
      waiting = []
      result = write.call(this, out[i], (err?: Error | null) => { for (const cb of callbacks) cb(err) })
    }
    return result
  }
}

const SUBACK_TYPE = 9

/**
 * Lets `edit` change the reason codes of the connection's next SUBACK for
 * `messageId` before it is written (aedes gives a refused subscription 0x87
 * with no way to say why); other packets pass unchanged.
 */
export function editSuback (client: Client, messageId: number, edit: (granted: number[]) => void): void {
  let done = false
  const stream = new PacketStream({
    headLength: (bytes, type, fixed, total) => {
      if (done || type !== SUBACK_TYPE) return 0
      if (bytes.length < fixed + 2) return undefined
      return bytes.readUInt16BE(fixed) === messageId ? total : 0
    },
    rewrite: head => {
      done = true
      const suback = parseAs(head, 'suback') as mqttPacket.ISubackPacket | undefined
      if (suback === undefined) return head
      edit(suback.granted as number[])
      return mqttPacket.generate(suback, { protocolVersion: 5 })
    }
  })
  rewriteWrites(client, chunk => stream.write(chunk), () => done && stream.idle)
}

function parseAs (bytes: Buffer, cmd: string): mqttPacket.Packet | undefined {
  let got: mqttPacket.Packet | undefined
  const parser = mqttPacket.parser({ protocolVersion: 5 })
  parser.on('packet', p => { got = p })
  parser.on('error', () => { got = undefined })
  parser.parse(bytes)
  return got?.cmd === cmd ? got : undefined
}

// ---- Trace tap (src/broker/trace/). Relies on 12. above: every byte sent to a
// connection after its CONNACK, and the CONNACK itself, goes through
// client.conn.write.

/**
 * Tells `sink` the size of every chunk aedes' read loop hands to the
 * connection's parser (client._parser.parse, see adapter-guard.ts): the bytes
 * received, counted without a 'data' listener on the socket, which would make
 * every read emit an event and cost about 9% of fan-out throughput.
 */
export function countReads (client: Client, sink: (bytes: number) => void): void {
  const parser = (client as unknown as { _parser: { parse: (buf: Buffer) => number } })._parser
  const parse = parser.parse
  parser.parse = function (this: unknown, buf: Buffer): number {
    sink(buf.length)
    return parse.call(this, buf)
  }
}

/**
 * Shows every chunk written to the connection to `sink`, from now on, after
 * whatever rewrites other code installs later (as tapWrites). For counting:
 * always on, so kept to one call and no allocation per write.
 */
export function countWrites (client: Client, sink: { written: (chunk: Buffer | string) => void }): void {
  const conn = client.conn as unknown as { write: (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean }
  const write = conn.write
  conn.write = function counted (this: unknown, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    sink.written(chunk as Buffer | string)
    return write.call(this, chunk, encoding, callback)
  }
}

/**
 * Shows every chunk written to the connection to the sink `observer()`
 * returns (undefined, the usual case, costs one call), after whatever rewrites
 * other code installs later (they wrap this one and restore it), so the sink
 * sees the bytes as they go on the wire. Installed once, when the connection
 * is accepted. The sink must not keep or modify the chunk.
 */
export function tapWrites (client: Client, observer: () => ((chunk: Buffer) => void) | undefined): void {
  const conn = client.conn as unknown as { write: (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean }
  const write = conn.write
  // fixed parameters, not a rest array: this runs for every write of every connection
  conn.write = function tapped (this: unknown, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const sink = observer()
    if (sink !== undefined) {
      if (Buffer.isBuffer(chunk)) sink(chunk)
      else if (typeof chunk === 'string') sink(Buffer.from(chunk, typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8'))
    }
    return write.call(this, chunk, encoding, callback)
  }
}
