// The auth plugin chain, as VerneMQ runs it: plugins are asked in order; `ok`
// accepts, `next` asks the next plugin, a refusal stops the chain. A chain that
// ends with every plugin saying `next` refuses (CONNACK 5 / not authorized).
import { escapeLineControls } from '../../config/shown.js'

/** What a plugin knows about the client asking. */
export interface ClientInfo {
  clientId: string
  /** undefined for an anonymous client */
  username: string | undefined
  /** listener mountpoint, '' when none */
  mountpoint: string
  /**
   * The connection itself (same object in every hook of one connection), for
   * plugins that keep per-login state: a new login with the same client id must
   * not inherit it or lose it when the old connection goes.
   */
  connection?: object
  /** MQTT protocol level (3, 4 or 5), when known */
  protocolVersion?: number
  peerHost?: string
  peerPort?: number
  /** clean session (3.1.1) / clean start (5) */
  clean?: boolean
  /** MQTT 5 CONNECT properties as mqtt-packet reads them */
  connectProperties?: Record<string, unknown>
}

/** MQTT 3.1.1 CONNACK return codes a plugin may refuse with. */
export type RefuseCode = 2 | 3 | 4 | 5

/**
 * Per-client settings a plugin gave at CONNECT (webhooks' auth_on_register
 * modifiers); the node's settings apply to the ones left unset.
 */
export interface ClientOverrides {
  username?: string
  /**
   * the client id and mountpoint the client's session is registered under
   * (VerneMQ's subscriber id): it publishes and subscribes in that mountpoint
   */
  subscriberId?: { clientId: string, mountpoint: string }
  /** MQTT 3.1.1: the session is registered as clean (true) or persistent (false), whatever the CONNECT said */
  cleanSession?: boolean
  /** bytes of a PUBLISH payload; 0 = no limit */
  maxMessageSize?: number
  /** PUBLISHes per second; 0 = no limit */
  maxMessageRate?: number
  /** unacknowledged QoS 1/2 messages sent to the client; 0 = no limit */
  maxInflightMessages?: number
  retryIntervalMs?: number
  upgradeQos?: boolean
  /** messages waiting for the connected client; -1 = no limit */
  maxOnlineMessages?: number
  /** messages queued for the offline persistent session; -1 = no limit */
  maxOfflineMessages?: number
  /** which message a full queue drops: the new one (fifo) or its oldest (lifo) */
  queueType?: 'fifo' | 'lifo'
  /** seconds after which the connection is closed; 0 = never */
  maxConnectionLifetime?: number
  /** allow_register_during_netsplit, allow_publish_during_netsplit and allow_subscribe_during_netsplit for this client */
  allowRegister?: boolean
  allowPublish?: boolean
  allowSubscribe?: boolean
  allowUnsubscribe?: boolean
}

export type RegisterVerdict =
  | { kind: 'ok', overrides?: ClientOverrides }
  | { kind: 'next' }
  | { kind: 'refuse', code: RefuseCode, reason: string }

export type AccessVerdict = 'ok' | 'next' | 'deny'

export interface PublishRequest {
  topic: string
  qos: 0 | 1 | 2
  retain: boolean
  payloadSize: number
  /** for plugins that pass it on (webhooks) */
  payload?: Buffer
  /** MQTT 5 PUBLISH properties as mqtt-packet reads them, for plugins that pass them on */
  properties?: Record<string, unknown>
}

/** What an asynchronous plugin (webhooks) may change in a PUBLISH it accepts. */
export interface PublishModifiers {
  topic?: string
  payload?: Buffer
  retain?: boolean
  /** the QoS the message is routed with (the publisher is answered for the QoS it sent) */
  qos?: 0 | 1 | 2
  /** the mountpoint the message is published in */
  mountpoint?: string
  /** ms during which nothing more is read from the publisher */
  throttle?: number
  /** MQTT 5: the message's properties instead of the ones sent (mqtt-packet names) */
  properties?: Record<string, unknown>
}

export type PublishOutcome = { verdict: 'ok', modifiers?: PublishModifiers } | { verdict: 'next' } | { verdict: 'deny', reason: string }

/** A SUBSCRIBE's filters as a plugin rewrote them, in order; a qos of 128 or more refuses that filter. */
export type SubscribeOutcome = { verdict: 'ok', topics?: Array<{ topic: string, qos: number }> } | { verdict: 'next' } | { verdict: 'deny', reason: string }

/** What happened to a client, for plugins that are told (webhooks' on_* hooks). */
export type ClientEvent =
  | { kind: 'register' | 'wakeup' | 'offline' | 'gone' | 'expired', client: ClientInfo }
  | { kind: 'publish' | 'deliver' | 'offline_message', client: ClientInfo, topic: string, payload: Buffer, qos: number, retain: boolean, properties?: Record<string, unknown> }
  | { kind: 'subscribe', client: ClientInfo, topics: Array<{ topic: string, qos: number }> }
  | { kind: 'unsubscribe', client: ClientInfo, topics: string[] }

export interface SubscribeRequest {
  /** the filter as the client sent it, `$share/<group>/` prefix included */
  topic: string
  qos: 0 | 1 | 2
}

/** A built-in plugin (vmq_passwd, vmq_acl, vmq_diversity). Hooks it does not implement count as `next`. */
export interface AuthPlugin {
  readonly name: string
  /** VerneMQ hook names, for `plugin show` */
  readonly hooks: readonly string[]
  authOnRegister?: (client: ClientInfo, password: Buffer | undefined) => Promise<RegisterVerdict>
  authOnPublish?: (client: ClientInfo, req: PublishRequest) => AccessVerdict
  authOnSubscribe?: (client: ClientInfo, req: SubscribeRequest) => AccessVerdict
  /**
   * Asynchronous authorization with modifiers (webhooks), asked after the
   * plugins before it said next; undefined = nothing to ask (next).
   */
  authorizePublish?: (client: ClientInfo, req: PublishRequest) => Promise<PublishOutcome> | undefined
  /** the whole SUBSCRIBE at once; undefined = nothing to ask (next) */
  authorizeSubscribe?: (client: ClientInfo, subs: SubscribeRequest[]) => Promise<SubscribeOutcome> | undefined
  /** whether the asynchronous hooks above have anything to ask now */
  authorizes?: () => boolean
  /**
   * MQTT 5 enhanced authentication: one step for the CONNECT's or an AUTH's
   * properties; undefined = nothing to ask (next)
   */
  enhancedAuth?: (client: ClientInfo, properties: Record<string, unknown>) => Promise<AuthStep> | undefined
  /** told what happened to a client; must not block */
  onEvent?: (event: ClientEvent) => void
  /** whether onEvent has anyone to tell now (else events are not built) */
  listening?: () => boolean
  /**
   * whether an answer to auth_on_register may move the client (client id and
   * mountpoint): the node then asks before the connection meets an aedes instance
   */
  movesClients?: () => boolean
  /** called when the client goes away (drop per-client caches) */
  onClientGone?: (client: ClientInfo) => void
  /** stop timers and watchers */
  close?: () => Promise<void> | void
}

/**
 * One step of an MQTT 5 enhanced authentication (on_auth_m5): go on with
 * another AUTH round, succeed, or refuse. `method` must be the client's.
 */
export type AuthStep =
  | { kind: 'continue' | 'success', method: string, data?: Buffer }
  | { kind: 'refuse', reason: string }

/** A problem found in an operator's file, reported as `file:line: message`. */
export interface FileProblem {
  file: string
  line: number
  message: string
}

export function formatProblem (p: FileProblem): string {
  return escapeLineControls(`${p.file}:${p.line}: ${p.message}`)
}

/** A connection whose CONNECT the auth chain answered before it was handed to aedes (early-register.ts). */
export interface EarlyRegistration {
  /** the chain's verdict on the CONNECT */
  verdict: RegisterVerdict
  /** what the plugins know this connection by (ClientInfo.connection) */
  connection: object
  /** the mountpoint the client lives in: the listener's, or the one the verdict names */
  mountpoint: string
  /** the client id the verdict names; undefined: the one sent */
  clientId: string | undefined
  /** clean session as the verdict names it; undefined: as sent */
  clean: boolean | undefined
  /** the id given to a client that sent an empty one (the plugins were asked with it) */
  assignedClientId?: string
}
