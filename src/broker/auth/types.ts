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
}

/** MQTT 3.1.1 CONNACK return codes a plugin may refuse with. */
export type RefuseCode = 2 | 3 | 4 | 5

export type RegisterVerdict =
  | { kind: 'ok' }
  | { kind: 'next' }
  | { kind: 'refuse', code: RefuseCode, reason: string }

export type AccessVerdict = 'ok' | 'next' | 'deny'

export interface PublishRequest {
  topic: string
  qos: 0 | 1 | 2
  retain: boolean
  payloadSize: number
}

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
  /** called when the client goes away (drop per-client caches) */
  onClientGone?: (client: ClientInfo) => void
  /** stop timers and watchers */
  close?: () => Promise<void> | void
}

/** A problem found in an operator's file, reported as `file:line: message`. */
export interface FileProblem {
  file: string
  line: number
  message: string
}

export function formatProblem (p: FileProblem): string {
  return escapeLineControls(`${p.file}:${p.line}: ${p.message}`)
}
