// Bytes and packets each MQTT connection receives and sends, counted for
// /metrics. Received packets are counted as aedes' parser reads them; sent ones
// from the bytes written to the connection (every byte goes through its
// write, see adapter.ts 12.), by their fixed header: one array increment per
// packet, and a jump over each packet's body.
import type { Client } from 'aedes'
import { countReads, countWrites, onParsedPacket } from '../delivery/adapter.js'
import type { BrokerCounters } from '../counters.js'

/** MQTT packet types by mqtt-packet's `cmd` */
const TYPES: Record<string, number> = {
  connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7, subscribe: 8,
  suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12, pingresp: 13, disconnect: 14, auth: 15
}

/** MQTT 5 packet types VerneMQ counts by reason code: where the code is in the body, -1 when only its length says it is 0 */
const REASON_AT: Array<number | undefined> = []
for (const type of [4, 5, 6, 7]) REASON_AT[type] = 2
for (const type of [14, 15]) REASON_AT[type] = 0

/** The listeners one node's connections share (a connection keeps only its SentPackets and two write/read wrappers). */
interface Shared {
  received: (bytes: number) => void
  parsed: (packet: { cmd: string, reasonCode?: number }, client: Client) => void
}

const shared = new WeakMap<BrokerCounters, Shared>()
const scanners = new WeakMap<Client, SentPackets>()

function sharedFor (counters: BrokerCounters): Shared {
  let found = shared.get(counters)
  if (found === undefined) {
    found = {
      received: bytes => { counters.bytesReceived += bytes },
      parsed: (packet, client) => {
        const scanner = scanners.get(client)
        if (scanner === undefined) return
        const type = TYPES[packet.cmd] ?? 0
        if (type === 1) scanner.v = (packet as { protocolVersion?: number }).protocolVersion === 5 ? 1 : 0
        const v = scanner.v
        if (v === 1 && REASON_AT[type] !== undefined) counters.reasonReceived(type, packet.reasonCode ?? 0)
        else counters.packetsReceived[v][type]++
      }
    }
    shared.set(counters, found)
  }
  return found
}

/**
 * Counts the packets of an accepted MQTT connection and the bytes it sends;
 * call before anything else wraps its writes.
 */
export function countWire (client: Client, counters: BrokerCounters): void {
  const { parsed } = sharedFor(counters)
  const scanner = new SentPackets(counters)
  scanners.set(client, scanner)
  onParsedPacket(client, parsed)
  countWrites(client, scanner)
}

/**
 * Counts the bytes a connection receives; call after the packet guard wraps
 * its parser, which reads some packets itself (fast-parse.ts) and hands the
 * parser only the rest of a read.
 */
export function countWireReads (client: Client, counters: BrokerCounters): void {
  countReads(client, sharedFor(counters).received)
}

const PUBLISH = 3
const DUP = 0x08

const HEAD = 0
const LENGTH = 1
const BODY = 2

/** Follows the packets in the bytes written to one connection, counting each as its header is whole. */
class SentPackets {
  private state = HEAD
  private type = 0
  /** the first byte of the current packet: its type and flags */
  private first = 0
  private length = 0
  private multiplier = 1
  /** body bytes of the current packet not seen yet */
  private remaining = 0
  /** body bytes before the MQTT 5 reason code to count the packet by, -1 when not waiting for one */
  private reasonIn = -1
  /** 0: MQTT 3.1/3.1.1, 1: MQTT 5 (known from the CONNECT; packets parsed with it come before aedes sets client.version) */
  v = 0

  constructor (private readonly counters: BrokerCounters) {}

  /** A chunk written to the connection (see countWrites). */
  written (chunk: Buffer | string): void {
    if (typeof chunk === 'string') this.skip(Buffer.byteLength(chunk))
    else this.write(chunk)
  }

  /**
   * Bytes written as a string: mqtt-packet writes topics and other strings
   * that way, always inside a packet's body, never where a reason code is.
   */
  skip (n: number): void {
    this.counters.bytesSent += n
    if (this.state !== BODY) return
    this.remaining = Math.max(0, this.remaining - n)
    if (this.remaining === 0) this.state = HEAD
  }

  write (chunk: Buffer): void {
    const counters = this.counters
    counters.bytesSent += chunk.length
    let i = 0
    while (i < chunk.length) {
      if (this.state === BODY) {
        if (this.reasonIn >= 0) {
          const n = Math.min(this.reasonIn, chunk.length - i)
          i += n
          this.remaining -= n
          this.reasonIn -= n
          if (this.reasonIn > 0 || i >= chunk.length) continue
          counters.reasonSent(this.type, chunk[i])
          this.reasonIn = -1
        }
        const n = Math.min(this.remaining, chunk.length - i)
        i += n
        this.remaining -= n
        if (this.remaining === 0) this.state = HEAD
      } else if (this.state === HEAD) {
        this.first = chunk[i++]
        this.type = this.first >> 4
        this.length = 0
        this.multiplier = 1
        this.state = LENGTH
      } else {
        const b = chunk[i++]
        this.length += (b & 0x7f) * this.multiplier
        this.multiplier *= 128
        if ((b & 0x80) === 0) this.headerDone()
      }
    }
  }

  private headerDone (): void {
    const v = this.v
    const at = REASON_AT[this.type]
    this.remaining = this.length
    this.reasonIn = -1
    if (v === 1 && at !== undefined) {
      // no reason code in the body: 0 (Success, Normal disconnection)
      if (this.length > at) this.reasonIn = at
      else this.counters.reasonSent(this.type, 0)
    } else if (this.type === PUBLISH && (this.first & DUP) !== 0) {
      this.counters.publishResent[v]++
    } else {
      this.counters.packetsSent[v][this.type]++
    }
    this.state = this.remaining === 0 ? HEAD : BODY
  }
}
