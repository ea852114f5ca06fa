// `trace client` on one node: the packets a traced client id sends (seen at
// aedes' parser) and receives (seen at the connection's writes, through the
// delivery adapter's tap), as lines. Every connection is watched from its
// start, so a client that connects while a trace waits is traced from its
// CONNECT; with no trace running a packet costs one size check.
import type { Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { getMeta } from '../client-meta.js'
import { onParsedPacket, tapWrites } from '../delivery/adapter.js'
import { publicClientId } from '../delivery/groups.js'
import { describePacket } from './format.js'
import { RateLimit, type TraceOutput } from './output.js'

export interface TraceOptions {
  clientId: string
  mountpoint: string
  rateMax: number
  rateIntervalMs: number
  truncPayload: number
}

type Parser = ReturnType<typeof mqttPacket.parser>

/** One running trace on this node. */
class Trace {
  readonly limit: RateLimit
  /** decoders of what is written to each traced connection */
  readonly parsers = new WeakMap<Client, Parser>()

  constructor (readonly options: TraceOptions, readonly output: TraceOutput, readonly nodeName: string, readonly end: () => void) {
    this.limit = new RateLimit(options.rateMax, options.rateIntervalMs, n => {
      output.write({ text: `${nodeName} ${n} trace lines suppressed: more than ${options.rateMax} per ${options.rateIntervalMs} ms (--rate-max, --rate-interval)` })
    })
  }

  packet (direction: 'RECV' | 'SEND', packet: mqttPacket.Packet): void {
    if (!this.limit.take()) return
    this.output.write({ text: `${this.nodeName} MQTT ${direction}: CID: ${JSON.stringify(this.options.clientId)} ${describePacket(packet, this.options.truncPayload)}` })
  }

  note (text: string): void {
    this.output.write({ text: `${this.nodeName} ${text}` })
  }

  /** Bytes written to `client`, decoded as they complete packets. */
  sent (client: Client, chunk: Buffer): void {
    let parser = this.parsers.get(client)
    if (parser === undefined) {
      const decoder = mqttPacket.parser({ protocolVersion: client.version === 3 || client.version === 5 ? client.version : 4 })
      decoder.on('packet', p => { this.packet('SEND', p) })
      decoder.on('error', () => {
        // the stream's packet boundaries are lost: start again with the next write
        this.parsers.delete(client)
        this.note('(bytes sent that do not decode as MQTT; skipped)')
      })
      this.parsers.set(client, decoder)
      parser = decoder
    }
    parser.parse(chunk)
  }
}

export class Tracer {
  private readonly traces = new Map<string, Set<Trace>>()

  constructor (private readonly nodeName: () => string) {}

  /** Watches a connection from its start (call before anything else wraps its writes). */
  watch (client: Client): void {
    onParsedPacket(client, this.received)
    tapWrites(client, () => {
      if (this.traces.size === 0 || client.id === undefined || client.id === null) return undefined
      const traces = this.matching(client, publicClientId(client.id))
      if (traces.size === 0) return undefined
      return chunk => { for (const trace of traces) safely(trace, () => { trace.sent(client, chunk) }) }
    })
  }

  /** One listener for every connection. */
  private readonly received = (packet: { cmd: string }, client: Client): void => {
    if (this.traces.size === 0) return
    const p = packet as mqttPacket.Packet
    // a CONNECT is traced under the id an auth plugin registers it with, when it gave one before aedes read it
    const id = p.cmd === 'connect' ? getMeta(client)?.early?.clientId ?? p.clientId : publicClientId(client.id ?? '')
    for (const trace of this.matching(client, id)) safely(trace, () => { trace.packet('RECV', p) })
  }

  /** Starts a trace; returns how to stop it. `end` ends its call when the node stops. */
  start (options: TraceOptions, output: TraceOutput, end: () => void): () => void {
    const trace = new Trace(options, output, this.nodeName(), end)
    const key = traceKey(options.mountpoint, options.clientId)
    let set = this.traces.get(key)
    if (set === undefined) this.traces.set(key, set = new Set())
    set.add(trace)
    return () => {
      trace.limit.stop()
      set.delete(trace)
      if (set.size === 0 && this.traces.get(key) === set) this.traces.delete(key)
    }
  }

  /** The node stops: every trace says so and ends its call (the RPC server closes next). */
  endAll (): void {
    for (const set of [...this.traces.values()]) {
      for (const trace of [...set]) {
        trace.note('trace ended: the node is stopping')
        trace.end()
      }
    }
  }

  private matching (client: Client, clientId: string): Set<Trace> {
    return this.traces.get(traceKey(getMeta(client)?.mountpoint ?? '', clientId)) ?? NONE
  }
}

const NONE: Set<Trace> = new Set()

/** Tracing runs inside aedes' packet handling and the connection's writes: it must never throw there. */
function safely (trace: Trace, work: () => void): void {
  try {
    work()
  } catch (err) {
    try {
      trace.note(`(a packet could not be traced: ${(err as Error).message})`)
    } catch {}
  }
}

function traceKey (mountpoint: string, clientId: string): string {
  return `${mountpoint}\u0000${clientId}`
}
