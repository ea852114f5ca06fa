import type { Client } from 'aedes'
import type { MqttListener } from './listeners/types.js'
import type { EarlyRegistration } from './auth/types.js'

/** What the node knows about a connection beyond what aedes keeps. */
export interface ClientMeta {
  listener: MqttListener
  mountpoint: string
  username: string | undefined
  /** length of the client id as sent (0 = the broker assigns one) */
  sentClientIdLength: number
  /** the id as sent contains U+0000 (refused with CONNACK 2) */
  clientIdInvalid?: boolean
  /** disarms the mqtt_connect_timeout timer */
  connectArrived?: () => void
  protocolVersion: number
  /** the CONNECT set the bridge bit of the protocol level (0x83, 0x84) */
  bridge?: boolean
  /** clean session (3.1.1) / clean start (5) as the client asked */
  clean: boolean
  /** the client's address; with proxy_protocol, the one the PROXY header reported */
  peerHost: string | undefined
  peerPort: number | undefined
  /** CN of the client certificate (TLS listener, or PROXY v2 TLS TLV) */
  certCommonName: string | undefined
  /**
   * set when the transport vouches for the user (use_identity_as_username,
   * proxy_protocol_use_cn_as_username): it is the username and the auth
   * plugins are not consulted; authorization still applies to it
   */
  preauthUsername: string | undefined
  /** max_message_size and max_message_rate an auth plugin gave this client at CONNECT */
  maxMessageSize?: number
  maxMessageRate?: number
  /** allow_publish_during_netsplit, allow_subscribe_during_netsplit and allow_unsubscribe_during_netsplit an auth plugin gave this client */
  allowPublish?: boolean
  allowSubscribe?: boolean
  allowUnsubscribe?: boolean
  /** MQTT 5 CONNECT properties as mqtt-packet reads them (for plugins that pass them on) */
  connectProperties?: Record<string, unknown>
  /** the auth chain's verdict, asked before the connection was handed to this mountpoint's instance */
  early?: EarlyRegistration
}

const metas = new WeakMap<Client, ClientMeta>()

export function setMeta (client: Client, meta: ClientMeta): void {
  metas.set(client, meta)
}

export function getMeta (client: Client | null | undefined): ClientMeta | undefined {
  return client === null || client === undefined ? undefined : metas.get(client)
}
