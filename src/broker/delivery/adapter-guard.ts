// The packet guard: between aedes' parser and aedes for every packet a client
// sends (see guardPackets). Part of the delivery adapter: with adapter.ts, the
// only code that reaches into aedes beyond its documented API. What it relies
// on, pinned by test/unit/broker/delivery/adapter.test.ts:
// 1. client._parser is mqtt-packet's parser; its 'packet' listeners are aedes'
//    handling of each packet, its _parseProperties() reads a property block at
//    _pos of _list, and packets that arrive while a CONNECT is still being
//    handled wait in _parser._queue (with client._parsingBatch counting them)
//    until the client emits 'connected' (see guardPackets). Its _parseString()
//    reads a 2-byte length at _pos and leaves _pos after the string's bytes
//    (decoding bad UTF-8 to U+FFFD); after parse() returns, _parser.packet has
//    the cmd and announced length of a packet whose body is still to come, with
//    its fixed header consumed from _list; an error it raises itself is also in
//    _parser.error (aedes' queue-limit error is not). _parseHeader() sets
//    packet.cmd from the first byte (returning false ends parse()),
//    _parseVarByteNum(true) gives the remaining length and its byte count, _pos
//    at a 'packet' event is what was read of the body, and a v5 DISCONNECT/AUTH
//    of length 0 reads its reason code from the next packet's bytes.
// 2. aedes reads broker.maximumPacketSize at each read (a change applies to open
//    connections) and reads nothing more once client._rejectingPacketTooLarge is set;
//    client.connackSent is true once a CONNACK was written, and 'connected' is
//    emitted after it; client.disconnectReasonCode is null until aedes
//    disconnects the client itself; broker.topicAliasMaximum is the CONNACK's.
// 3. A CONNECT the guard does not hand to aedes (enhanced authentication holds
//    it) leaves client._parsingBatch at 0, so aedes reads the client's next
//    packets at the next 'readable'; handed on later, it is handled as if it
//    had just arrived. Pinned in guard.test.ts.
// 4. aedes' handling of a PUBACK (lib/handlers/puback.js) only clears the
//    message in the store and emits 'ack'; after any packet it refreshes
//    client._keepaliveTimer when client._keepaliveInterval > 0.
// 5. Between packets the parser's packet has cmd null and its _list is empty;
//    it emits each packet as 'packet' with _pos at the bytes of the body read
//    and the packet made by the constructor of parser.packet (fast-parse.ts
//    builds PUBLISH and PUBACK the same way; adapter.test.ts compares them).
// 6. aedes handles each packet with the client._nextBatch it reads when the
//    packet is handed on, and calls it once done (a SUBSCRIBE once its SUBACK
//    is written, an UNSUBSCRIBE once its UNSUBACK is); client._nextBatch is the
//    connection's 'readable' listener (aedes' resume() after authentication
//    calls it too), the 'connected' listener hands on what
//    client._parser._queue holds then, and aedes closes the client on its
//    connection's 'end'. adapter-order.ts relies on these.
import type { EventEmitter } from 'node:events'
import type { Aedes, Client } from 'aedes'
import { readVarint, scanProperties, type PropertyBlockOf, type PropertyProblem } from '../../mqtt/property-scan.js'
import { badUtf8, badUtf8At, brokenRule, isShortestVarint, malformed, PACKET_TOO_LARGE, packetTypeRule, parserError, protocolError, remainingLengthRule, topicAliasRule, type ClientPacket } from '../../mqtt/packet-rules.js'
import { CONNECT_MAX_BYTES } from '../packet-size.js'
import { isPacketObserver } from './adapter.js'
import { afterConnack, disconnecting, refuse, stopReading, type Reply } from './adapter-refusal.js'
import { FastReader, type FastPacket } from './fast-parse.js'
import { PacketOrder, refreshKeepalive, type OrderedClient } from './adapter-order.js'

type ParsedPacket = ClientPacket & { length?: number }

interface PendingPacket { cmd: string | null, length: number, protocolVersion?: number }

interface ParserInternals extends EventEmitter {
  parse: (buf: Buffer) => number
  _parseProperties: () => unknown
  _parseString: () => string | null
  _parseHeader: () => boolean
  _parseVarByteNum: (fullInfo?: boolean) => { bytes: number, value: number } | number | false
  _parseDisconnect: () => unknown
  _parseAuth: () => unknown
  _list: { length: number, slice: (start: number, end: number) => Buffer, get: (index: number) => number }
  _pos: number
  /** the CONNECT's protocolVersion once it is read */
  settings: { protocolVersion?: number }
  packet: PendingPacket
  error: Error | null
  _queue: ParsedPacket[] | null
}

const HANDLED_HERE = Symbol('handled by the delivery layer')
interface HandledHere { [HANDLED_HERE]: boolean }

/**
 * Marks a packet the delivery layer has fully handled (the PUBACK of a QoS 1
 * message it wrote itself, of which aedes keeps no state): the guard does not
 * hand it to aedes, which would only ask the store to forget a message it
 * never stored, emit 'ack' and read on a turn later.
 */
export function handledHere (packet: object): void {
  (packet as HandledHere)[HANDLED_HERE] = true
}

interface ClientInternals {
  /** seconds × 1500 + 1 once a keepalive applies, else -1 */
  _keepaliveInterval: number
  _keepaliveTimer: NodeJS.Timeout | null
  _parser: ParserInternals
  _parsingBatch: number
  connackSent: boolean
  broker: { queueLimit: number, maximumPacketSize: number, topicAliasMaximum: number }
}

/** MQTT 5 enhanced authentication (§4.12), when the node has a plugin for it. */
export interface AuthExchange {
  /**
   * A CONNECT arrived: true when it carries an Authentication Method the
   * exchange takes on; it then hands the CONNECT to aedes itself with `release`.
   * Nothing is handed to aedes meanwhile, so aedes reads on (the client's AUTH).
   */
  connect: (client: Client, packet: ClientPacket, release: () => void) => boolean
  /** The exchange takes this client's AUTH packets (else an AUTH breaks MQTT-4.12.0-5). */
  takesAuth: (client: Client) => boolean
  auth: (client: Client, packet: ClientPacket) => void
}

export interface PacketGuard {
  /** enhanced authentication, when the node has it */
  exchange?: AuthExchange
  /** the client broke the protocol: the connection is being closed (v5: told why first) */
  refused: (client: Client, cmd: string, problem: PropertyProblem) => void
  /** handling a packet threw: the connection is closed, the node goes on */
  failed: (client: Client, cmd: string, err: unknown) => void
}

// What the guard notes about packets while they are parsed, keyed by the packet
// object (a packet belongs to one connection): shared by all connections, so an
// idle one keeps no table of its own.
/** the first problem found in a packet's fields while it was parsed */
const flagged = new WeakMap<object, PropertyProblem>()
/** property blocks read so far in a packet (a CONNECT's second one is the will's) */
const propertyBlocks = new WeakMap<object, number>()
/** packets whose remaining length was not in the fewest bytes */
const longLength = new WeakSet<object>()

/** reads PUBLISH and PUBACK for every connection, one read at a time */
const reader = new FastReader()

function badString (text: string): PropertyProblem {
  return malformed(`a string is not valid UTF-8 or contains U+0000 (MQTT-1.5.4-1/2): ${JSON.stringify(text)}`)
}

function flag (packet: object, problem: PropertyProblem | undefined): void {
  if (problem !== undefined && !flagged.has(packet)) flagged.set(packet, problem)
}

/**
 * Stands between the client's parser and aedes for every packet:
 * - a packet that breaks the protocol closes the connection, a v5 client told
 *   why first (CONNACK, or DISCONNECT once the CONNACK went out): what the
 *   parser itself refuses, MQTT 5 property blocks cut short, repeated, not
 *   allowed in the packet, with a forbidden value or bad UTF-8, strings with bad
 *   UTF-8 or U+0000 (checked on the bytes), fields that do not fill the
 *   remaining length, MQTT 5 remaining lengths in too many bytes, the rules of
 *   mqtt/packet-rules.ts, packets before or after the one CONNECT; the first
 *   byte alone refuses reserved and server-only packet types;
 * - a CONNECT announcing more than CONNECT_MAX_BYTES is refused from its fixed
 *   header, before its body is read;
 * - a packet that follows a CONNECT still being handled waits for it, as aedes
 *   means it to (it hands such packets on once a read ends mid-packet), and
 *   packets go to aedes in order around a SUBSCRIBE or UNSUBSCRIBE, which
 *   aedes does not do (adapter-order.ts);
 * - an exception while aedes handles a packet closes that connection only.
 */
export function guardPackets (client: Client, guard: PacketGuard): void {
  const parser = (client as unknown as ClientInternals)._parser
  const parseProperties = parser._parseProperties
  parser._parseProperties = function (this: ParserInternals) {
    // only a CONNECT has two blocks (its own, then the will's): counted for it alone, not for every PUBLISH
    const blocks = this.packet.cmd === 'connect' ? connectBlocks(this.packet) : 0
    // an empty block (length byte 0, inside this packet), the usual case, has nothing to check
    if (this._pos >= this._list.length || this._pos >= this.packet.length || this._list.get(this._pos) !== 0) {
      flag(this.packet, scanProperties(propertyBlock(this), blockOf(this.packet.cmd, blocks)))
    }
    return parseProperties.call(this)
  }
  // one object with the connection's state and prototype methods: the wrappers
  // below and the two callbacks of its PacketOrder are the only functions made
  // per connection
  const g = new GuardState(client, guard, parser.listeners('packet') as PacketHandler[], parser.listeners('error') as ErrorHandler[], parser)
  // MQTT-1.5.5-1 (MQTT 5): the Remaining Length in the fewest bytes; the parser reads any
  const parseVarByteNum = parser._parseVarByteNum
  parser._parseVarByteNum = function (this: ParserInternals, fullInfo?: boolean) {
    const result = parseVarByteNum.call(this, fullInfo)
    if (fullInfo === true && typeof result === 'object' && !isShortestVarint(result.value, result.bytes)) {
      longLength.add(this.packet)
      // refused before the body, which may itself be broken, is read (the CONNECT's version is not known yet)
      if (!g.stopped && g.sawConnect && g.version === 5) {
        g.stop(this.packet, malformed('a remaining length not in the fewest bytes (MQTT-1.5.5-1)'))
        return false
      }
    }
    return result
  }
  // MQTT 5 §3.14.2.1, §3.15.2.1: a remaining length of 0 means reason 0x00 and no
  // properties; the parser would read them from the next packet's bytes
  parser._parseDisconnect = zeroLengthAware(parser._parseDisconnect)
  parser._parseAuth = zeroLengthAware(parser._parseAuth)
  const parseString = parser._parseString
  parser._parseString = function (this: ParserInternals) {
    const start = this._pos
    const text = parseString.call(this)
    if (text !== null && badUtf8(text, () => this._list.slice(start + 2, this._pos))) flag(this.packet, badString(text))
    return text
  }
  // the first byte alone can show a packet out of order or of a type a client
  // never sends: refused before a body that may itself be broken is read
  const parseHeader = parser._parseHeader
  parser._parseHeader = function (this: ParserInternals) {
    const read = parseHeader.call(this)
    if (!read || g.stopped) return read
    const problem = g.orderProblem(this.packet.cmd) ?? packetTypeRule(this.packet.cmd, g.version)
    if (problem === undefined) return read
    g.stop(this.packet, problem)
    return false
  }
  const parse = parser.parse
  parser.parse = function (this: ParserInternals, buf: Buffer): number {
    // a read handed in while a packet of the one before is handled comes after all of it
    if (g.readingFast) {
      (g.deferred ??= []).push(buf)
      return 0
    }
    if (g.atPacketStart(this)) {
      g.readingFast = true
      let from: number
      try {
        from = g.readFast(this, buf)
      } finally {
        g.readingFast = false
      }
      const later = g.deferred
      g.deferred = undefined
      if (later !== undefined) buf = Buffer.concat([buf.subarray(from), ...later])
      else if (from === buf.length) return 0
      else buf = buf.subarray(from)
    }
    const left = parse.call(this, buf)
    const problem = g.stopped || this.packet.cmd === null ? undefined : g.pendingProblem(this.packet)
    if (problem !== undefined) g.stop(this.packet, problem)
    return left
  }
  parser.removeAllListeners('error')
  parser.on('error', function (this: ParserInternals, err: Error) { g.parserError(this, err) })
  parser.removeAllListeners('packet')
  parser.on('packet', function (this: ParserInternals, packet: ParsedPacket) { g.packet(this, packet) })
  // aedes hands the packets that waited for the CONNECT on in a 'connected' listener
  for (const listener of client.listeners('connected') as Array<() => void>) {
    client.removeListener('connected', listener)
    client.once('connected', function (this: Client) { g.guarded(() => { g.connected(parser, listener) }, 'a packet held for the CONNECT') })
  }
}

type PacketHandler = (packet: ParsedPacket) => void
type ErrorHandler = (err: Error) => void

/** What the guard knows of one connection, and how it refuses it. */
class GuardState {
  sawConnect = false
  version: number | undefined = undefined
  connectSessionExpiry = 0
  stopped = false
  /** true while readFast hands packets on; reads handed in meanwhile wait in deferred (see parse above) */
  readingFast = false
  deferred: Buffer[] | undefined = undefined
  /** hands packets past the CONNECT to aedes in order around SUBSCRIBE and UNSUBSCRIBE */
  private readonly order: PacketOrder<ParsedPacket>

  constructor (
    private readonly client: Client,
    private readonly guard: PacketGuard,
    /** aedes' handling of each packet */
    private readonly handlers: PacketHandler[],
    /** aedes' handling of parser errors */
    private readonly onError: ErrorHandler[],
    parser: ParserInternals
  ) {
    this.order = new PacketOrder(client as unknown as OrderedClient, packet => { this.handle(parser, packet) })
  }

  packet (parser: ParserInternals, packet: ParsedPacket): void {
    if (this.stopped) return
    const client = this.client
    const exchange = this.guard.exchange
    const exchanged = packet.cmd === 'auth' && exchange?.takesAuth(client) === true
    const problem = flagged.get(packet) ?? this.orderProblem(packet.cmd) ?? packetTypeRule(packet.cmd, this.version) ??
      remainingLengthRule(packet.cmd, parser._pos, packet.length ?? 0) ?? lengthProblem(packet, packet.protocolVersion ?? this.version) ??
      (exchanged ? undefined : brokenRule(packet)) ?? topicAliasRule(packet, (client as unknown as ClientInternals).broker.topicAliasMaximum) ??
      disconnectRule(packet, this.connectSessionExpiry)
    if (problem !== undefined) {
      this.stop(packet, problem)
      return
    }
    if (exchanged) {
      this.guarded(() => { exchange?.auth(client, packet) }, 'auth')
      return
    }
    if (packet.cmd === 'connect') {
      this.sawConnect = true
      this.version = packet.protocolVersion
      this.connectSessionExpiry = Number(packet.properties?.sessionExpiryInterval ?? 0)
      const release = (): void => { if (!this.stopped) this.order.handNow(packet) }
      if (exchange?.connect(client, packet, release) === true) return
    } else if (this.sawConnect && !client.connected && parser._queue !== null) {
      holdUntilConnected(client as unknown as ClientInternals, packet)
      return
    }
    if ((packet as Partial<HandledHere>)[HANDLED_HERE] === true) {
      // counts and traces still see it; of aedes' handling only the keepalive is left (see 4.)
      this.guarded(() => { for (const handler of this.handlers) if (isPacketObserver(handler)) handler.call(parser, packet) }, packet.cmd)
      refreshKeepalive(client as unknown as ClientInternals)
      return
    }
    this.order.take(packet)
  }

  /** The CONNECT is answered: the packets that waited for it go to aedes in order. */
  connected (parser: ParserInternals, dequeue: () => void): void {
    const client = this.client as unknown as ClientInternals
    const queue = parser._queue
    // aedes' dequeue would hand them all on at once; it is left to end the queue
    parser._queue = []
    dequeue.call(this.client)
    if (queue === null) return
    // each was counted in _parsingBatch when it was held; handing it on counts it again
    client._parsingBatch -= queue.length
    for (const packet of queue) this.order.take(packet)
  }

  /** True when the next byte of a read starts a packet of a connection past its CONNECT (see 5. above). */
  atPacketStart (parser: ParserInternals): boolean {
    return this.sawConnect && !this.stopped && parser.error === null && parser.packet.cmd === null && parser._list.length === 0
  }

  /**
   * Hands the PUBLISH and PUBACK packets at the start of `buf` on as the parser
   * would (see fast-parse.ts); returns where the parser takes over.
   */
  readFast (parser: ParserInternals, buf: Buffer): number {
    const version = parser.settings.protocolVersion ?? 4
    const make = parser.packet.constructor as new () => FastPacket
    let offset = 0
    while (offset < buf.length && !this.stopped) {
      const next = reader.next(buf, offset, version, make)
      if (next < 0) break
      const packet = reader.packet as FastPacket & ParsedPacket
      const topic = packet.topic
      if (topic !== null && badUtf8At(topic, buf, reader.topicStart, reader.topicEnd)) flag(packet, badString(topic))
      offset = next
      parser._pos = reader.bodyRead
      parser.emit('packet', packet)
      parser._pos = 0
    }
    return offset
  }

  parserError (parser: ParserInternals, err: Error): void {
    if (this.stopped) return
    // errors the parser did not raise itself (aedes' queue limit) go to aedes
    if (parser.error !== err) for (const listener of this.onError) listener.call(parser, err)
    else this.stop(parser.packet, parserError(err.message))
  }

  /** MQTT-3.1.0-1, MQTT-3.1.0-2: one CONNECT, first. */
  orderProblem (cmd: string | null): PropertyProblem | undefined {
    if (cmd === 'connect') return this.sawConnect ? protocolError('a second CONNECT (MQTT-3.1.0-2)') : undefined
    return this.sawConnect ? undefined : protocolError(`a ${String(cmd).toUpperCase()} before the CONNECT (MQTT-3.1.0-1)`)
  }

  /** A problem the fixed header of the packet being read already shows. */
  pendingProblem (pending: PendingPacket): PropertyProblem | undefined {
    const problem = this.orderProblem(pending.cmd) ?? packetTypeRule(pending.cmd, this.version) ?? (this.sawConnect ? lengthProblem(pending, this.version) : undefined)
    if (problem !== undefined || pending.cmd !== 'connect' || pending.length <= CONNECT_MAX_BYTES) return problem
    return { reasonCode: PACKET_TOO_LARGE, reason: `a CONNECT of ${pending.length} bytes (at most ${CONNECT_MAX_BYTES} are read)` }
  }

  stop (packet: { cmd: string | null, protocolVersion?: number }, problem: PropertyProblem): void {
    const client = this.client
    this.stopped = true
    stopReading(client)
    // aedes is already disconnecting the client (a v5 DISCONNECT went out): one DISCONNECT, not two
    if (disconnecting(client)) return
    this.guard.refused(client, packet.cmd ?? 'unknown', problem)
    const reply = this.replyTo(packet)
    if (reply !== 'disconnect-after-connack') refuse(client, reply, problem.reasonCode)
    // the packets held before this one go to aedes first; one of them may already disconnect the client
    else afterConnack(client, () => { if (!disconnecting(client)) refuse(client, 'disconnect', problem.reasonCode) })
  }

  /**
   * v5: CONNACK to the first CONNECT, DISCONNECT once a CONNACK went out (never
   * before it, MQTT-3.14.0-1: a packet that came with a CONNECT still being
   * handled waits for its CONNACK); 3.1/3.1.1: nothing.
   */
  private replyTo (packet: { cmd: string | null, protocolVersion?: number }): Reply | 'disconnect-after-connack' {
    if (this.sawConnect) {
      if (this.version !== 5) return 'close'
      return (this.client as unknown as ClientInternals).connackSent ? 'disconnect' : 'disconnect-after-connack'
    }
    if (packet.cmd !== 'connect') return 'close'
    return (packet.protocolVersion ?? connectVersion((this.client as unknown as ClientInternals)._parser)) === 5 ? 'connack' : 'close'
  }

  private handle (parser: ParserInternals, packet: ParsedPacket): void {
    try {
      for (const handler of this.handlers) handler.call(parser, packet)
    } catch (err) {
      this.failed(packet.cmd, err)
    }
  }

  guarded (work: () => void, cmd: string): void {
    try {
      work()
    } catch (err) {
      this.failed(cmd, err)
    }
  }

  private failed (cmd: string, err: unknown): void {
    this.stopped = true
    this.guard.failed(this.client, cmd, err)
    this.client.close()
  }
}

function lengthProblem (packet: object, protocolVersion: number | undefined): PropertyProblem | undefined {
  return protocolVersion === 5 && longLength.has(packet) ? malformed('a remaining length not in the fewest bytes (MQTT-1.5.5-1)') : undefined
}

/** One wrapper per parser method, shared by every connection. */
const zeroLengthWrappers = new Map<() => unknown, () => unknown>()

/** MQTT 5 DISCONNECT/AUTH of remaining length 0: reason 0x00, no properties, nothing more read. */
function zeroLengthAware (original: () => unknown): () => unknown {
  let wrapper = zeroLengthWrappers.get(original)
  if (wrapper === undefined) {
    wrapper = function (this: ParserInternals) {
      if (this.packet.length !== 0) return original.call(this)
      // 3.1.1 has no reason code: the packet stays as the parser makes it
      if (this.settings.protocolVersion === 5) (this.packet as { reasonCode?: number }).reasonCode = 0
      return true
    }
    zeroLengthWrappers.set(original, wrapper)
  }
  return wrapper
}

/**
 * The protocol version byte of the CONNECT being read, when it has arrived
 * (the parser's list starts after the fixed header: length, "MQTT", version).
 */
function connectVersion (parser: ParserInternals): number | undefined {
  return parser._list.length > 6 ? parser._list.get(6) & 0x7f : undefined
}

/** How many property blocks of this CONNECT were read before the one being read now. */
function connectBlocks (packet: object): number {
  const blocks = propertyBlocks.get(packet) ?? 0
  propertyBlocks.set(packet, blocks + 1)
  return blocks
}

/** The property block a packet's `index`-th _parseProperties call reads (a CONNECT's second is the will's). */
function blockOf (cmd: string | null, index: number): PropertyBlockOf | undefined {
  switch (cmd) {
    case 'connect': return index === 0 ? 'connect' : 'will'
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': return 'ack'
    case 'publish': case 'subscribe': case 'unsubscribe': case 'disconnect': case 'auth': return cmd
    default: return undefined
  }
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
  // the list may hold the next packets too: the block ends with this packet at the latest
  const limit = Math.min(list.length, parser.packet.length)
  const end = length === undefined ? limit : Math.min(limit, parser._pos + length.next + length.value)
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
