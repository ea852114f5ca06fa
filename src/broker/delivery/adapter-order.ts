// A client's packets reach aedes in the order they came around SUBSCRIBE and
// UNSUBSCRIBE, as VerneMQ handles a client's packets: one of these waits until
// aedes is done with every packet before it, and the packets after it wait
// until it is done. aedes hands every packet on at once: a PUBLISH right after
// a SUBSCRIBE missed the new subscription (authorized by a webhook, or told to
// cluster members first), and an UNSUBSCRIBE overtook a PUBLISH still being
// authorized. Other packets go on at once, as aedes handles them. Nothing more
// is read while packets wait: TCP back-pressure bounds them. Part of the packet
// guard; what it relies on in aedes is listed in adapter-guard.ts (6.).
import type { EventEmitter } from 'node:events'

export interface OrderedClient {
  /** aedes' nextBatch: a packet is done, read on when none is left (the 'readable' listener); read when a packet is handed on */
  _nextBatch: (err?: Error | null) => void
  /** packets handed on and not done, as aedes counts them */
  _parsingBatch: number
  _keepaliveInterval: number
  _keepaliveTimer: NodeJS.Timeout | null
  conn: EventEmitter
  closed: boolean
}

interface Packet { cmd: string }

function isBarrier (packet: Packet): boolean {
  return packet.cmd === 'subscribe' || packet.cmd === 'unsubscribe'
}

/** aedes restarts a connection's keepalive timer after handling any packet. */
export function refreshKeepalive (client: { _keepaliveInterval: number, _keepaliveTimer: NodeJS.Timeout | null }): void {
  if (client._keepaliveInterval > 0) client._keepaliveTimer?.refresh()
}

export class PacketOrder<P extends Packet> {
  /** packets handed to aedes whose handling has not called back yet */
  private handling = 0
  /** a SUBSCRIBE or UNSUBSCRIBE is being handled: nothing else is handed on until it is done */
  private exclusive = false
  /** packets not handed on yet, in order; set while a SUBSCRIBE or UNSUBSCRIBE waits or is handled */
  private waiting: P[] | undefined = undefined
  private draining = false
  private readonly readOn: (err?: Error | null) => void
  /** the nextBatch aedes gets with each packet handed on (aedes' resume() still calls its own) */
  private readonly counted: (err?: Error | null) => void
  // made at a connection's first hold: most connections never need them
  private readLater: (() => void) | undefined = undefined
  private ended: (() => void) | undefined = undefined

  constructor (
    private readonly client: OrderedClient,
    /** hands a packet to aedes, which calls client._nextBatch once it is done */
    private readonly hand: (packet: P) => void
  ) {
    this.readOn = client._nextBatch
    this.counted = err => { this.done(err) }
  }

  /** A packet past the CONNECT, in the order it came. */
  take (packet: P): void {
    if (this.waiting !== undefined) {
      this.waiting.push(packet)
      // it arrived: the keepalive counts it, as aedes does a packet it handles
      refreshKeepalive(this.client)
      return
    }
    if (!isBarrier(packet)) {
      this.handNow(packet)
      return
    }
    this.hold().push(packet)
    this.drain()
  }

  /** Hands a packet to aedes now, counted until it is done (the CONNECT, which nothing precedes). */
  handNow (packet: P): void {
    this.handling++
    const client = this.client
    client._nextBatch = this.counted
    try {
      this.hand(packet)
    } finally {
      client._nextBatch = this.readOn
    }
  }

  /** aedes is done with a packet it was handed. */
  private done (err?: Error | null): void {
    if (this.handling > 0) this.handling--
    if (this.handling === 0) this.exclusive = false
    if (this.waiting === undefined || (err !== undefined && err !== null)) {
      this.readOn(err)
      return
    }
    // counted done as aedes would, but nothing more is read until the hold ends
    this.client._parsingBatch--
    this.drain()
  }

  private drain (): void {
    if (this.draining) return
    this.draining = true
    let over = false
    try {
      const waiting = this.waiting
      // packets that came before one the guard refused still go on, as they would have at once
      while (waiting !== undefined && waiting.length > 0 && !this.exclusive && !this.client.closed) {
        if (isBarrier(waiting[0])) {
          if (this.handling > 0) break
          this.exclusive = true
        }
        this.handNow(waiting.shift() as P)
      }
      over = waiting !== undefined && waiting.length === 0 && !this.exclusive
    } finally {
      this.draining = false
    }
    if (!over) return
    this.endHold()
    // reads what arrived meanwhile, once no packet handed on is left
    this.client._parsingBatch++
    this.readOn()
  }

  private hold (): P[] {
    const conn = this.client.conn
    const waiting: P[] = []
    this.waiting = waiting
    // what arrives meanwhile is read once the hold ends; its arrival already counts for the keepalive
    this.readLater ??= () => { refreshKeepalive(this.client) }
    // the client ended the connection: what it sent goes to aedes now, before
    // aedes closes it on this 'end' (a DISCONNECT among them keeps the will
    // unpublished, a PUBLISH is not lost)
    this.ended ??= () => { for (const packet of this.endHold()) this.handNow(packet) }
    conn.removeListener('readable', this.readOn)
    conn.on('readable', this.readLater)
    conn.prependListener('end', this.ended)
    return waiting
  }

  private endHold (): P[] {
    const conn = this.client.conn
    if (this.readLater !== undefined) conn.removeListener('readable', this.readLater)
    if (this.ended !== undefined) conn.removeListener('end', this.ended)
    conn.on('readable', this.readOn)
    const waiting = this.waiting ?? []
    this.waiting = undefined
    return waiting
  }
}
