import type { Duplex } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { ListenerConfig } from '../../config/load.js'
import type { Logger } from '../log.js'

/** VerneMQ's names for listener kinds, as `listener show` prints them. */
export type ListenerKind = 'mqtt' | 'mqtts' | 'mqttws' | 'mqttwss' | 'vmq' | 'vmqs' | 'http' | 'https'

/** running: accepting; suspended: `listener stop` (no new connections, existing ones stay unless -k) */
export type ListenerStatus = 'running' | 'suspended'

/** What a listener learned about a connection before MQTT starts. */
export interface ConnectionInfo {
  /** the client's address: the socket's, or the one a PROXY header reported */
  peerHost: string | undefined
  peerPort: number | undefined
  /** CN of the client certificate (TLS), or of the PROXY v2 TLS TLV */
  certCommonName?: string
  /** the transport vouches for this username: the auth plugins are skipped */
  preauthUsername?: string
}

/** Called for every accepted MQTT connection, with the listener it came through. */
export type ConnectionHandler = (stream: Duplex, listener: MqttListener, info: ConnectionInfo, req?: IncomingMessage) => void

export interface ListenerContext {
  accept: ConnectionHandler
  log: Logger
}

export interface MqttListener {
  readonly config: ListenerConfig
  readonly kind: ListenerKind
  readonly status: ListenerStatus
  /** the bound port (differs from the configured one when that was 0) */
  port: () => number
  connections: () => number
  start: () => Promise<void>
  /** stops accepting new connections; existing ones stay */
  suspend: () => Promise<void>
  /** accepts again after suspend, on the same port */
  resume: () => Promise<void>
  /** closes every open connection of this listener */
  dropConnections: () => void
  /** stops accepting and closes every connection */
  close: () => Promise<void>
  /** takes a connection another process accepted for this listener */
  adopt?: (socket: import('node:net').Socket) => void
  /** TLS listeners: re-read certificate files now */
  reloadCertificates?: () => void
}

export function maxConnections (config: ListenerConfig): number {
  const max = config.options.get('max_connections')
  return typeof max === 'number' ? max : Infinity
}

export function describeAddress (config: Pick<ListenerConfig, 'host' | 'port'>): string {
  return config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`
}

/**
 * How messages name a listener option: `listener.ssl.NAME.certfile` for
 * configured listeners, `--certfile` for those started by `listener start`.
 */
export function optionKey (config: ListenerConfig, option: string): string {
  return config.runtime === true ? `--${option}` : `listener.${config.type}.${config.name}.${option}`
}

/** The key of the listener itself, as in `listener.tcp.NAME`. */
export function listenerKey (config: ListenerConfig): string {
  return config.runtime === true ? `listener ${describeAddress(config)}` : `listener.${config.type}.${config.name}`
}

/** The mountpoint of the clients of a listener ('' = none). */
export function listenerMountpoint (config: ListenerConfig): string {
  return String(config.options.get('mountpoint') ?? '').replace(/\/+$/, '')
}

/** A listener as the node reports it (start lines, the ports file, workers). */
export interface ListenerInfo {
  kind: string
  name: string
  /** host:port as clients reach it ([host]:port for IPv6) */
  address: string
  host: string
  /** the bound port: the kernel's choice when the configured one was 0 */
  port: number
}
