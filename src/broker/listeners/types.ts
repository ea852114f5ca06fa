import type { Duplex } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { ListenerConfig } from '../../config/load.js'

/** VerneMQ's names for listener kinds, as `listener show` prints them. */
export type ListenerKind = 'mqtt' | 'mqtts' | 'mqttws' | 'mqttwss' | 'vmq' | 'vmqs' | 'http' | 'https'

/** Called for every accepted MQTT connection, with the listener it came through. */
export type ConnectionHandler = (stream: Duplex, listener: MqttListener, req?: IncomingMessage) => void

export interface MqttListener {
  readonly config: ListenerConfig
  readonly kind: ListenerKind
  status: 'running' | 'suspended'
  /** the bound port (differs from the configured one when that was 0) */
  port (): number
  connections (): number
  start (): Promise<void>
  /** stops accepting and closes every connection */
  close (): Promise<void>
  /** stops accepting new connections, keeps the open ones */
  suspend?: () => void
}

export function maxConnections (config: ListenerConfig): number {
  const max = config.options.get('max_connections')
  return typeof max === 'number' ? max : Infinity
}

export function describeAddress (config: ListenerConfig): string {
  return config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`
}
