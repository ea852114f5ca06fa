// Every byte the delivery layer writes to one connection. A message is
// encoded once for all its subscribers (encode.ts) and written straight to the
// connection where aedes keeps no state for it; the socket is corked per
// event-loop turn; a QoS 0 message finds a connection full of them dropped
// (back-pressure); and a connection with more than outgoing_buffer_limit bytes
// pending is closed as a slow consumer, with a reason, a log line and a counter.
// What must go through aedes (a persistent session's QoS 1/2 messages, a held-
// back message) goes through client.publish (adapter.ts publishStub).
import type { EventEmitter } from 'node:events'
import type { Client } from 'aedes'
import type { BrokerCounters } from '../counters.js'
import type { Logger } from '../log.js'
import type { Socket } from 'node:net'
import { publishStub, writeRaw } from './adapter.js'
import { flushSoon } from './cork.js'
import { publishBytes } from './encode.js'
import { endConnection } from './end-connection.js'
import type { OutPacket } from './out-packet.js'
import type { QueueSettings } from './settings.js'

/**
 * MQTT 5 DISCONNECT reason for a client that does not read: "an implementation
 * or administrative imposed limit has been exceeded" (outgoing_buffer_limit).
 */
const QUOTA_EXCEEDED = 0x97
/** how long a connection closed for not reading may still flush what is pending */
const NOT_READING_GRACE_MS = 2000

export type DirectWrite = 'written' | 'dropped' | 'not-here'

/** What the outbox writes through: one connection. */
export interface Writer {
  /** A QoS 0 PUBLISH now (see writeQos0); 'not-here': aedes must send it. */
  qos0: (packet: OutPacket, maxMessages: number) => DirectWrite
  /** A QoS 1/2 PUBLISH with its packet id now (see writeQos); false: aedes must send it. */
  qos: (packet: OutPacket, qos: number, messageId: number, dup: boolean) => boolean
  /** Sends `packet` at `qos` through aedes, which asks for it back with takeInjected. */
  throughAedes: (packet: OutPacket, qos: number) => void
  /** The real packet behind a stub sent by throughAedes. */
  takeInjected: (counter: number | undefined) => OutPacket | null
  /** A retry: the PUBLISH again, with DUP and its packet id. */
  publishAgain: (packet: OutPacket, qos: number, messageId: number) => void
  /** A PUBREL (a QoS 2 retry after PUBREC, or one stored by an earlier connection). */
  pubrel: (messageId: number) => void
  /** Bytes written to the connection and not yet handed to the operating system. */
  pendingBytes: () => number
  /** True once the connection is closed for not reading; closes it when it stops reading now. */
  notReading: () => boolean
  /** What was written in this callback leaves at its end, not at the end of the turn (cork.ts flushSoon). */
  flush: () => void
  /** The session ended: held-back messages are forgotten. */
  close: () => void
}

/** What a connection's writer needs from its mountpoint. */
export interface WriterHost {
  readonly settings: QueueSettings
  readonly counters: BrokerCounters
  readonly log: Logger
}

export class ConnectionWriter implements Writer {
  private injections: Map<number, OutPacket> | undefined
  private closedForNotReading = false

  constructor (private readonly client: Client, private readonly host: WriterHost) {}

  qos0 (packet: OutPacket, maxMessages: number): DirectWrite {
    return writeQos0(this.client, packet, maxMessages)
  }

  qos (packet: OutPacket, qos: number, messageId: number, dup: boolean): boolean {
    return writeQos(this.client, packet, qos, messageId, dup)
  }

  throughAedes (packet: OutPacket, qos: number): void {
    this.injections ??= new Map()
    publishStub(this.client, packet, qos, this.injections)
  }

  takeInjected (counter: number | undefined): OutPacket | null {
    const packet = counter === undefined ? undefined : this.injections?.get(counter)
    if (packet === undefined) return null
    this.injections?.delete(counter as number)
    return packet
  }

  publishAgain (packet: OutPacket, qos: number, messageId: number): void {
    writeRaw(this.client, {
      cmd: 'publish',
      topic: packet.topic,
      payload: packet.payload,
      qos: qos as 1 | 2,
      retain: packet.retain,
      dup: true,
      messageId,
      ...(packet.properties !== undefined ? { properties: packet.properties } : {})
    })
  }

  pubrel (messageId: number): void {
    writeRaw(this.client, { cmd: 'pubrel', messageId })
  }

  pendingBytes (): number {
    return pendingBytes(this.client)
  }

  /**
   * True once more than outgoing_buffer_limit bytes wait to be written to the
   * connection: the client is not reading, and the connection is closed (once)
   * before it grows the node's memory without bound. Nothing more is sent to it;
   * a persistent session keeps its stored messages for the next connection.
   */
  notReading (): boolean {
    if (this.closedForNotReading) return true
    const limit = this.host.settings.outgoingBufferLimit
    if (limit <= 0) return false
    const pending = pendingBytes(this.client)
    if (pending <= limit) return false
    this.closedForNotReading = true
    this.host.counters.slowConsumersClosed++
    this.host.log.warn({ client: this.client.id, pending, limit }, 'closing the connection of a client that is not reading: more bytes wait to be written to it than outgoing_buffer_limit')
    closeNotReading(this.client, QUOTA_EXCEEDED, NOT_READING_GRACE_MS)
    return true
  }

  flush (): void {
    flushSoon(this.client.conn as unknown as Socket)
  }

  close (): void {
    this.injections = undefined
  }
}

/** Bytes written to the connection and not yet handed to the operating system. */
function pendingBytes (client: Client): number {
  return (client.conn as unknown as { writableLength?: number }).writableLength ?? 0
}

/**
 * Closes a connection that does not read what is sent to it. MQTT 5 gets a
 * DISCONNECT with `reasonCode` behind the bytes already pending (client.disconnect
 * would wait for a drain that does not come); the socket is ended so a client
 * that reads slowly still gets them, and aedes closes the client after
 * `graceMs` at the latest, which discards what is still pending.
 */
function closeNotReading (client: Client, reasonCode: number, graceMs: number): void {
  if (client.version === 5) writeRaw(client, { cmd: 'disconnect', reasonCode })
  const conn = client.conn as unknown as NodeJS.WritableStream & EventEmitter
  const timer = setTimeout(() => { client.close() }, graceMs)
  timer.unref()
  conn.once('close', () => { clearTimeout(timer) })
  endConnection(conn)
}

interface Conn { write: (b: Buffer) => boolean, writableLength: number, destroyed: boolean }

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
 * gets null from authorizeForward and sends nothing (adapter.ts, 7.). MQTT 5 is
 * written here too: aedes' write holds the message's delivery (and with it the
 * broker's emitter, 100 messages at most in flight) until a connection that
 * stopped reading drains. A connection whose buffered bytes exceed what
 * `maxMessages` such messages take is not waiting for more: the message is
 * dropped (VerneMQ drops beyond max_online_messages; -1 = no limit).
 * 'not-here': a connection not open (or a 3.1.1 packet with MQTT 5
 * properties), left to aedes.
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
