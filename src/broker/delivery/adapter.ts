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
// 6. PUBACK/PUBCOMP reach persistence.outgoingClearMessageId(client, ack) for
//    clean sessions too (a PUBREC does not: onParsedPacket sees it); an MQTT 5
//    PUBREC with an error reason of a persistent session is cleared with
//    outgoingClearMessageId(client, pubrec); a forward refused for a
//    persistent session is cleared without a messageId.
// 7. Every subscriber's copy of a message shares the payload Buffer, and a null
//    from authorizeForward for QoS 0 sends nothing (writeQos0 relies on both).
// 8. client._parser is mqtt-packet's parser; its 'packet' listeners are aedes'
//    handling of each packet, its _parseProperties() reads a property block at
//    _pos of _list, and packets that arrive while a CONNECT is still being
//    handled wait in _parser._queue (with client._parsingBatch counting them)
//    until the client emits 'connected' (see guardPackets). Its _parseString()
//    reads a 2-byte length at _pos and leaves _pos after the string's bytes
//    (decoding bad UTF-8 to U+FFFD); after parse() returns, _parser.packet has
//    the cmd and announced length of a packet whose body is still to come, with
//    its fixed header consumed from _list; an error it raises itself is also in
//    _parser.error (aedes' queue-limit error is not).
// 9. A PUBLISH marked `_notAuthorized` in authorizePublish is neither
//    acknowledged nor published; a PUBREL for a packet id aedes never stored
//    is answered with PUBCOMP. authorizePublish failing for MQTT 5 answers a
//    QoS 1/2 PUBLISH with reason 0x87 and the error's message as reason string.
// 10. aedes reads broker.maximumPacketSize at each read (a change applies to open
//     connections) and reads nothing more once client._rejectingPacketTooLarge is set;
//     client.connackSent is true once a CONNACK was written.
import type { EventEmitter } from 'node:events'
import type { Aedes, Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { readVarint, scanProperties, type PropertyProblem } from '../../mqtt/property-scan.js'
import { badUtf8, brokenRule, malformed, PACKET_TOO_LARGE, parserError, protocolError, type ClientPacket } from '../../mqtt/packet-rules.js'
import { CONNECT_MAX_BYTES } from '../packet-size.js'
import { publishBytes } from './encode.js'
import { PacketStream } from './packet-stream.js'

/** brokerId of the stubs that carry held-back messages through client.publish */
export const INJECTED_BROKER_ID = '\u0000vmq-queue'

/** The fields of an aedes PUBLISH packet the queue reads or sets. */
export interface OutPacket {
  cmd?: string
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  dup?: boolean
  messageId?: number
  brokerId?: string | null
  brokerCounter?: number
  properties?: Record<string, unknown>
  /** MQTT 5: when the message expires, ms since the epoch (set by aedes' publish) */
  messageExpiry?: number
}

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

/**
 * Calls `listener` with every packet aedes' parser reads from the client,
 * before aedes handles it (the parser is `client._parser`, not a public API).
 */
export function onParsedPacket (client: Client, listener: (packet: { cmd: string, messageId?: number, reasonCode?: number }) => void): void {
  const parser = (client as unknown as { _parser?: EventEmitter })._parser
  parser?.prependListener('packet', listener)
}

type ParsedPacket = ClientPacket

interface PendingPacket { cmd: string | null, length: number, protocolVersion?: number }

interface ParserInternals extends EventEmitter {
  parse: (buf: Buffer) => number
  _parseProperties: () => unknown
  _parseString: () => string | null
  _list: { length: number, slice: (start: number, end: number) => Buffer, get: (index: number) => number }
  _pos: number
  packet: PendingPacket
  error: Error | null
  _queue: ParsedPacket[] | null
}

interface ClientInternals {
  _parser: ParserInternals
  _parsingBatch: number
  _rejectingPacketTooLarge: boolean
  connackSent: boolean
  broker: { queueLimit: number, maximumPacketSize: number }
}

export interface PacketGuard {
  /** the client broke the protocol: the connection is being closed (v5: told why first) */
  refused: (client: Client, cmd: string, problem: PropertyProblem) => void
  /** handling a packet threw: the connection is closed, the node goes on */
  failed: (client: Client, cmd: string, err: unknown) => void
}

/** How long a refused connection may stay half-closed, for its CONNACK/DISCONNECT to be read, before it is cut. */
const REFUSAL_FLUSH_MS = 1000

/**
 * Stands between the client's parser and aedes for every packet:
 * - a packet that breaks the protocol closes the connection, a v5 client told
 *   why first (CONNACK or DISCONNECT 0x81/0x82/0x95): what the parser itself
 *   refuses, MQTT 5 property blocks cut short, repeated or with bad UTF-8,
 *   strings with bad UTF-8 or U+0000 (checked on the bytes), the rules of
 *   mqtt/packet-rules.ts, packets before or after the one CONNECT;
 * - a CONNECT announcing more than CONNECT_MAX_BYTES is refused from its fixed
 *   header, before its body is read;
 * - a packet that follows a CONNECT still being handled waits for it, as aedes
 *   means it to (it hands such packets on once a read ends mid-packet);
 * - an exception while aedes handles a packet closes that connection only.
 */
export function guardPackets (client: Client, guard: PacketGuard): void {
  const parser = (client as unknown as ClientInternals)._parser
  const flagged = new WeakMap<object, PropertyProblem>()
  const flag = (packet: object, problem: PropertyProblem | undefined): void => {
    if (problem !== undefined && !flagged.has(packet)) flagged.set(packet, problem)
  }
  const parseProperties = parser._parseProperties
  parser._parseProperties = function (this: ParserInternals) {
    flag(this.packet, scanProperties(propertyBlock(this)))
    return parseProperties.call(this)
  }
  const parseString = parser._parseString
  parser._parseString = function (this: ParserInternals) {
    const start = this._pos
    const text = parseString.call(this)
    if (text !== null && badUtf8(text, () => this._list.slice(start + 2, this._pos))) {
      flag(this.packet, malformed(`a string is not valid UTF-8 or contains U+0000 (MQTT-1.5.4-1/2): ${JSON.stringify(text)}`))
    }
    return text
  }
  const parse = parser.parse
  parser.parse = function (this: ParserInternals, buf: Buffer) {
    const left = parse.call(this, buf)
    const problem = stopped || this.packet.cmd === null ? undefined : pendingProblem(this.packet)
    if (problem !== undefined) stop(this.packet, problem)
    return left
  }
  const onError = parser.listeners('error') as Array<(err: Error) => void>
  parser.removeAllListeners('error')
  parser.on('error', function (this: ParserInternals, err: Error) {
    if (stopped) return
    // errors the parser did not raise itself (aedes' queue limit) go to aedes
    if (this.error !== err) for (const listener of onError) listener.call(this, err)
    else stop(this.packet, parserError(err.message))
  })
  const handlers = parser.listeners('packet') as Array<(packet: ParsedPacket) => void>
  parser.removeAllListeners('packet')
  let sawConnect = false
  let version: number | undefined
  let connectSessionExpiry = 0
  let stopped = false
  parser.on('packet', function (this: ParserInternals, packet: ParsedPacket) {
    if (stopped) return
    const problem = flagged.get(packet) ?? orderProblem(packet.cmd) ?? brokenRule(packet) ?? disconnectRule(packet, connectSessionExpiry)
    if (problem !== undefined) {
      stop(packet, problem)
      return
    }
    if (packet.cmd === 'connect') {
      sawConnect = true
      version = packet.protocolVersion
      connectSessionExpiry = Number(packet.properties?.sessionExpiryInterval ?? 0)
    } else if (sawConnect && !client.connected && parser._queue !== null) {
      holdUntilConnected(client as unknown as ClientInternals, packet)
      return
    }
    handle(this, packet)
  })
  // aedes hands the packets that waited for the CONNECT on in a 'connected' listener
  for (const listener of client.listeners('connected') as Array<() => void>) {
    client.removeListener('connected', listener)
    client.once('connected', function (this: Client) { guarded(() => { listener.call(this) }, 'a packet held for the CONNECT') })
  }

  /** MQTT-3.1.0-1, MQTT-3.1.0-2: one CONNECT, first. */
  function orderProblem (cmd: string | null): PropertyProblem | undefined {
    if (cmd === 'connect') return sawConnect ? protocolError('a second CONNECT (MQTT-3.1.0-2)') : undefined
    return sawConnect ? undefined : protocolError(`a ${String(cmd).toUpperCase()} before the CONNECT (MQTT-3.1.0-1)`)
  }

  /** A problem the fixed header of the packet being read already shows. */
  function pendingProblem (pending: PendingPacket): PropertyProblem | undefined {
    const problem = orderProblem(pending.cmd)
    if (problem !== undefined || pending.cmd !== 'connect' || pending.length <= CONNECT_MAX_BYTES) return problem
    return { reasonCode: PACKET_TOO_LARGE, reason: `a CONNECT of ${pending.length} bytes (at most ${CONNECT_MAX_BYTES} are read)` }
  }

  function stop (packet: { cmd: string | null, protocolVersion?: number }, problem: PropertyProblem): void {
    stopped = true
    stopReading(client)
    guard.refused(client, packet.cmd ?? 'unknown', problem)
    refuse(client, replyTo(packet), problem.reasonCode)
  }

  /**
   * v5: CONNACK to the first CONNECT, DISCONNECT once a CONNACK went out (never
   * before it, MQTT-3.14.0-1); 3.1/3.1.1: nothing.
   */
  function replyTo (packet: { cmd: string | null, protocolVersion?: number }): Reply {
    if (sawConnect) return version === 5 && (client as unknown as ClientInternals).connackSent ? 'disconnect' : 'close'
    if (packet.cmd !== 'connect') return 'close'
    return (packet.protocolVersion ?? connectVersion(parser)) === 5 ? 'connack' : 'close'
  }

  function handle (parser: ParserInternals, packet: ParsedPacket): void {
    guarded(() => { for (const handler of handlers) handler.call(parser, packet) }, packet.cmd)
  }

  function guarded (work: () => void, cmd: string): void {
    try {
      work()
    } catch (err) {
      stopped = true
      guard.failed(client, cmd, err)
      client.close()
    }
  }
}

/**
 * The protocol version byte of the CONNECT being read, when it has arrived
 * (the parser's list starts after the fixed header: length, "MQTT", version).
 */
function connectVersion (parser: ParserInternals): number | undefined {
  return parser._list.length > 6 ? parser._list.get(6) & 0x7f : undefined
}

/** aedes' nextBatch reads nothing more from the connection once this latch is set. */
function stopReading (client: Client): void {
  (client as unknown as ClientInternals)._rejectingPacketTooLarge = true
}

/**
 * Sets the largest packet aedes reads (0 = no limit): it reads the broker's
 * maximumPacketSize at each read, so a change applies to open connections.
 */
export function setMaximumPacketSize (broker: Aedes, bytes: number): void {
  (broker as unknown as { maximumPacketSize: number }).maximumPacketSize = bytes
}

/** The bytes of the property block being parsed: its length varint and the block. */
function propertyBlock (parser: ParserInternals): Buffer {
  const list = parser._list
  const head = list.slice(parser._pos, Math.min(parser._pos + 4, list.length))
  const length = readVarint(head, 0)
  const end = length === undefined ? list.length : Math.min(list.length, parser._pos + length.next + length.value)
  return list.slice(parser._pos, end)
}

/**
 * MQTT-3.14.2-2: a DISCONNECT may not set a Session Expiry Interval when the
 * CONNECT had none (aedes would ignore it silently).
 */
function disconnectRule (packet: ParsedPacket, connectSessionExpiry: number): PropertyProblem | undefined {
  if (packet.cmd === 'disconnect' && connectSessionExpiry === 0 && Number(packet.properties?.sessionExpiryInterval ?? 0) > 0) {
    return protocolError('a DISCONNECT sets a session expiry interval the CONNECT did not have (MQTT-3.14.2-2)')
  }
  return undefined
}

function holdUntilConnected (client: ClientInternals, packet: ParsedPacket): void {
  const queue = client._parser._queue as ParsedPacket[]
  client._parsingBatch++
  if (queue.length < client.broker.queueLimit) queue.push(packet)
  else client._parser.emit('error', new Error('Client queue limit reached'))
}

type Reply = 'connack' | 'disconnect' | 'close'

/** Sends a v5 client the reason (CONNACK or DISCONNECT), then closes. */
function refuse (client: Client, reply: Reply, reasonCode: number): void {
  if (reply === 'close' || client.conn.destroyed) {
    client.close()
    return
  }
  const packet = reply === 'connack'
    ? { cmd: 'connack' as const, sessionPresent: false, reasonCode }
    : { cmd: 'disconnect' as const, reasonCode }
  // The reply, then FIN; the socket is destroyed once the client closes its
  // side or after a grace time. Destroying it at once, with the client's bytes
  // still unread, sends a reset that can discard the reply before the client reads it.
  const conn = client.conn as unknown as NodeJS.ReadWriteStream & { once: (event: 'close', listener: () => void) => void }
  const timer = setTimeout(() => { client.close() }, REFUSAL_FLUSH_MS)
  timer.unref()
  conn.once('close', () => {
    clearTimeout(timer)
    client.close()
  })
  conn.end(mqttPacket.generate(packet, { protocolVersion: 5 }))
}

/**
 * Makes aedes neither acknowledge nor publish a PUBLISH authorizePublish lets
 * through (see 9. above).
 */
export function skipPublish (packet: object): void {
  (packet as { _notAuthorized?: boolean })._notAuthorized = true
}

/**
 * Acknowledges a QoS 1/2 PUBLISH that goes to nobody: PUBACK, or PUBREC (aedes
 * answers the PUBREL with PUBCOMP), without reason code (3.1/3.1.1).
 */
export function acknowledgeSkipped (client: Client, packet: { qos: number, messageId?: number }): void {
  if (packet.qos === 0 || packet.messageId === undefined) return
  writeRaw(client, { cmd: packet.qos === 1 ? 'puback' : 'pubrec', messageId: packet.messageId })
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

/** Bytes written to the connection and not yet handed to the operating system. */
export function pendingBytes (client: Client): number {
  return (client.conn as unknown as { writableLength?: number }).writableLength ?? 0
}

/**
 * Closes a connection that does not read what is sent to it. MQTT 5 gets a
 * DISCONNECT with `reasonCode` behind the bytes already pending (client.disconnect
 * would wait for a drain that does not come); the socket is ended so a client
 * that reads slowly still gets them, and aedes closes the client after
 * `graceMs` at the latest, which discards what is still pending.
 */
export function closeNotReading (client: Client, reasonCode: number, graceMs: number): void {
  if (client.version === 5) writeRaw(client, { cmd: 'disconnect', reasonCode })
  const conn = client.conn as unknown as NodeJS.WritableStream & EventEmitter
  const timer = setTimeout(() => { client.close() }, graceMs)
  timer.unref()
  conn.once('close', () => { clearTimeout(timer) })
  conn.end()
}

interface Conn { write: (b: Buffer) => boolean, writableLength: number, destroyed: boolean }

export type DirectWrite = 'written' | 'dropped' | 'not-here'

/**
 * The connection to write to directly: open, 3.1/3.1.1 with a packet without
 * MQTT 5 properties, or MQTT 5 when `v5` is allowed; else undefined (aedes sends it).
 */
function directConn (client: Client, packet: OutPacket, v5 = false): Conn | undefined {
  const version = client.version
  if (version === 5 ? !v5 : (version !== 4 && version !== 3) || packet.properties !== undefined) return undefined
  if (!client.connected || client.closed || !Buffer.isBuffer(packet.payload)) return undefined
  const conn = client.conn as unknown as Conn
  return conn.destroyed ? undefined : conn
}

/**
 * Writes a QoS 0 PUBLISH to a connection at once (see encode.ts), instead of
 * aedes encoding it again per subscriber in a later event-loop turn; aedes then
 * gets null from authorizeForward and sends nothing. MQTT 5 is written here too:
 * aedes' write holds the message's delivery (and with it the broker's emitter,
 * 100 messages at most in flight) until a connection that stopped reading
 * drains. A connection whose buffered bytes exceed what `maxMessages` such
 * messages take is not waiting for more: the message is dropped (VerneMQ drops
 * beyond max_online_messages; -1 = no limit). 'not-here': a connection not
 * open (or a 3.1.1 packet with MQTT 5 properties), left to aedes.
 */
export function writeQos0 (client: Client, packet: OutPacket, maxMessages: number): DirectWrite {
  const conn = directConn(client, packet, true)
  if (conn === undefined) return 'not-here'
  const [bytes] = publishBytes(packet, 0, client.version)
  if (maxMessages >= 0 && conn.writableLength > maxMessages * bytes.length) return 'dropped'
  conn.write(bytes)
  return 'written'
}

/**
 * Writes a QoS 1/2 PUBLISH with the session's packet id to the connection of
 * a clean session at once (aedes keeps no state for those: it would only
 * encode and write the packet a turn later). Persistent sessions go through
 * aedes, which records the id in the stored queue. False: left to aedes.
 */
export function writeQos (client: Client, packet: OutPacket, qos: number, messageId: number, dup: boolean): boolean {
  if (!client.clean) return false
  const conn = directConn(client, packet, true)
  if (conn === undefined) return false
  for (const chunk of publishBytes(packet, qos, client.version, messageId, dup)) conn.write(chunk)
  return true
}

function noop (): void {}

// ---- CONNECT, CONNACK and inbound packets (src/broker/connack.ts,
// src/broker/inbound.ts). Pinned by test/unit/broker/delivery/adapter-connect.test.ts:
// 11. aedes writes the CONNACK as the first bytes of a connection, through
//    client.conn.write, and builds its Session Present flag and MQTT 5
//    properties itself with no hook in between (lib/handlers/connect.js).
// 12. lib/handlers/subscribe.js doSubscribe refuses a `$share/` filter of an
//    MQTT 5 client with 0x9E after reading client.version; nothing else in the
//    SUBSCRIBE path treats `$share/` filters differently.
// 13. broker.topicAliasMaximum is read at every CONNACK and every aliased PUBLISH.

const CONNACK_TYPE = 2

/**
 * Calls `edit` with the connection's CONNACK (parsed) before it is written,
 * and writes what `edit` leaves instead. mqtt-packet writes a CONNACK in
 * several pieces; they are collected until the packet is whole. Bytes that do
 * not parse as a CONNACK of `protocolVersion`, or written while it is undefined
 * (no CONNECT handled yet), go out unchanged.
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
    const packet = parse(bytes, version)
    if (packet?.cmd !== 'connack') return write.call(this, bytes, ...rest)
    edit(packet)
    return write.call(this, mqttPacket.generate(packet, { protocolVersion: version }), ...rest)
  }
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
 * Lets an MQTT 5 client subscribe to `$share/` filters (see 12. above): the
 * client reads as version 4 to doSubscribe's check only. The check is found by
 * its caller's name, and only while a SUBSCRIBE or the CONNECT that may
 * restore subscriptions is being handled (`armed`), so other reads cost nothing.
 */
export function allowSharedSubscriptions (client: Client, armed: () => boolean): void {
  let version: unknown = (client as unknown as { version: unknown }).version
  function read (): unknown {
    if (version !== 5 || !armed()) return version
    return calledFromDoSubscribe(read) ? 4 : version
  }
  Object.defineProperty(client, 'version', {
    configurable: true,
    enumerable: true,
    get: read,
    set (value: unknown) { version = value }
  })
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

/** True for a PUBLISH skipPublish marked (see 9. above). */
export function isSkipped (packet: object): boolean {
  return (packet as { _notAuthorized?: boolean })._notAuthorized === true
}

/** Topic aliases accepted from clients, for CONNACKs and aliased PUBLISHes from now on (see 13. above). */
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
