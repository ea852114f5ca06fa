// The messages the runner and a load worker exchange over the IPC channel.
import type { Credentials, ProtocolVersion } from './packets.js'

export interface Target { host: string, port: number, credentials?: Credentials }

export interface ClientSpec {
  clientId: string
  /** clean session (3.1.1) / clean start (5); with 5, clean=false also asks for a session that never expires */
  clean: boolean
  /** topic to subscribe to once connected */
  subscribe?: string
  /** topic this client publishes to */
  publishTopic?: string
}

export type Command =
  | { cmd: 'open', target: Target, clients: ClientSpec[], subscribeQos: 0 | 1, protocol: ProtocolVersion, concurrency: number, timeoutMs: number }
  | { cmd: 'start', qos: 0 | 1, payloadSize: number, rate: number, limit: number, maxInflight: number, window: number, fanout: number }
  | { cmd: 'probe', qos: 0 | 1, payloadSize: number }
  | { cmd: 'stop' }
  | { cmd: 'stats' }
  | { cmd: 'reset' }
  | { cmd: 'window-open' }
  | { cmd: 'window-close' }
  | { cmd: 'close' }

export interface Stats {
  sent: number
  acked: number
  received: number
  dup: number
  /** deliveries the end-to-end window wrote off after a stall */
  forgiven: number
  /** sockets open now */
  open: number
  /** sockets that failed or were closed by the broker, and the first reason */
  errors: number
  firstError: string | null
  /** process.cpuUsage() user + system, microseconds */
  cpuMicros: number
  /** monotonic seconds */
  at: number
}

export interface OpenResult { connected: number, failed: number, firstError: string | null, seconds: number }

export interface WindowResult { stats: Stats, histogram: string }

export type Request = Command & { id: number }
export type Reply = { id: number, ok: true, result: unknown } | { id: number, ok: false, error: string }
