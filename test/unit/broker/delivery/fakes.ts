// A fake clock, writer and mountpoint for driving a SessionQueue without
// sockets or timers.
import type { Client } from 'aedes'
import type { Logger } from 'pino'
import { BrokerCounters } from '../../../../src/broker/counters.js'
import type { Cancel, Clock } from '../../../../src/broker/delivery/clock.js'
import type { OutPacket } from '../../../../src/broker/delivery/out-packet.js'
import { SessionQueue, type SessionHost } from '../../../../src/broker/delivery/outbox.js'
import type { QueueSettings } from '../../../../src/broker/delivery/settings.js'
import type { DirectWrite, Writer } from '../../../../src/broker/delivery/writer.js'

interface Timer { at: number, fn: () => void, live: boolean }

/** Time moves only by advance(); timers fire in order of their due time. */
export class FakeClock implements Clock {
  time = 1_000_000
  private timers: Timer[] = []

  now = (): number => this.time

  setTimer = (ms: number, fn: () => void): Cancel => {
    const timer = { at: this.time + ms, fn, live: true }
    this.timers.push(timer)
    return () => { timer.live = false }
  }

  /** Timers not yet fired nor cancelled. */
  get pending (): number { return this.timers.filter(t => t.live).length }

  advance (ms: number): void {
    const end = this.time + ms
    for (let i = 0; i < 10_000; i++) {
      const due = this.timers.filter(t => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0]
      if (due === undefined) break
      due.live = false
      this.time = Math.max(this.time, due.at)
      due.fn()
    }
    this.timers = this.timers.filter(t => t.live)
    this.time = end
  }
}

/** One line per call: what the outbox asked its writer to write. */
export class FakeWriter implements Writer {
  readonly written: string[] = []
  /** the packets written, by topic (the last one for each) */
  readonly packets = new Map<string, OutPacket>()
  /** what qos0 answers; 'not-here' makes the outbox return the packet to aedes */
  qos0Result: DirectWrite = 'written'
  /** what qos answers (false: aedes sends it) */
  qosResult = true
  slow = false
  closed = false
  /** what pendingBytes answers: bytes written and not yet taken by the operating system */
  pending = 0
  private readonly injected = new Map<number, OutPacket>()
  private counter = 0

  qos0 (packet: OutPacket): DirectWrite {
    if (this.qos0Result === 'written') this.record(packet, `publish ${packet.topic} q0`)
    return this.qos0Result
  }

  qos (packet: OutPacket, qos: number, messageId: number, dup: boolean): boolean {
    if (this.qosResult) this.record(packet, `publish ${packet.topic} q${qos} id${messageId}${dup ? ' dup' : ''}`)
    return this.qosResult
  }

  throughAedes (packet: OutPacket, qos: number): void {
    this.injected.set(++this.counter, packet)
    this.written.push(`stub ${packet.topic} q${qos}`)
  }

  takeInjected (counter: number | undefined): OutPacket | null {
    const packet = counter === undefined ? undefined : this.injected.get(counter)
    if (packet === undefined) return null
    this.injected.delete(counter as number)
    return packet
  }

  publishAgain (packet: OutPacket, qos: number, messageId: number): void {
    this.written.push(`publish ${packet.topic} q${qos} id${messageId} dup (retry)`)
  }

  pubrel (messageId: number): void {
    this.written.push(`pubrel id${messageId}`)
  }

  pendingBytes (): number { return this.pending }

  notReading (): boolean { return this.slow }

  /** how many times the outbox asked for its writes to leave at once */
  flushes = 0
  flush (): void { this.flushes++ }

  close (): void { this.closed = true }

  private record (packet: OutPacket, line: string): void {
    this.written.push(line)
    this.packets.set(packet.topic, packet)
  }

  /** Returns what was written since the last call. */
  take (): string[] {
    return this.written.splice(0)
  }
}

export interface LogLine { level: string, fields: Record<string, unknown>, message: string }

export function fakeLog (lines: LogLine[]): Logger {
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => { lines.push({ level, fields, message }) }
  return { warn: at('warn'), debug: at('debug'), info: at('info'), error: at('error') } as unknown as Logger
}

/** The defaults of the config schema, as QueueSettings reads them. */
export function settings (overrides: Partial<QueueSettings> = {}): QueueSettings {
  return {
    maxInflight: 20,
    receiveMaxClient: 65535,
    maxOnline: 1000,
    lifo: false,
    retryMs: 20000,
    upgradeQos: false,
    overrideMaxOnline: false,
    multipleSessions: false,
    balance: false,
    outgoingBufferLimit: 0,
    expirationMs: null,
    ...overrides
  } as QueueSettings
}

export interface ClientOptions { id?: string, version?: number, clean?: boolean, receiveMaximum?: number, maximumPacketSize?: number }

/** The fields of an aedes client the outbox reads. */
export function fakeClient (options: ClientOptions = {}): Client {
  return { id: 'c1', version: 4, clean: true, ...options } as unknown as Client
}

export interface Harness {
  session: SessionQueue
  writer: FakeWriter
  clock: FakeClock
  counters: BrokerCounters
  log: LogLine[]
  /** stored copies deleted, as `topic` */
  forgotten: string[]
  /** the connection's subscriptions, filter -> granted QoS */
  subscriptions: Record<string, { qos: number, si?: number }>
}

export function harness (client: ClientOptions = {}, overrides: Partial<QueueSettings> = {}): Harness {
  const writer = new FakeWriter()
  const clock = new FakeClock()
  const counters = new BrokerCounters()
  const log: LogLine[] = []
  const forgotten: string[] = []
  const subscriptions: Record<string, { qos: number, si?: number }> = { 't/#': { qos: 2 } }
  const host: SessionHost = {
    settings: settings(overrides),
    counters,
    log: fakeLog(log),
    forget: (_clientId, packet) => { forgotten.push(packet.topic) },
    subscriptions: () => subscriptions
  }
  const session = new SessionQueue(fakeClient(client), host, writer, clock)
  return { session, writer, clock, counters, log, forgotten, subscriptions }
}

let counter = 0

/** A message as aedes hands it to authorizeForward: published on broker `b`. */
export function message (topic: string, qos: number, fields: Partial<OutPacket> = {}): OutPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(topic), qos, retain: false, brokerId: 'b', brokerCounter: ++counter, ...fields }
}

/** Lets queued microtasks (the outbox's pump) run. */
export async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}
