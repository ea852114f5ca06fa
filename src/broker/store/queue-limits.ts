// max_offline_messages and queue_type, the node's and each client's own.

const DEFAULT_MAX_OFFLINE_MESSAGES = 1000

export class QueueLimits {
  #maxOffline: number
  readonly #clientMaxOffline = new Map<string, number>()
  readonly #clientLifo = new Map<string, boolean>()
  #lifo = false

  /** per offline persistent session: -1 unlimited, 0 queue nothing; default 1000 (VerneMQ's) */
  constructor (maxOffline: number | undefined) {
    this.#maxOffline = maxOffline ?? DEFAULT_MAX_OFFLINE_MESSAGES
  }

  /**
   * A client's own max_offline_messages (an auth plugin's at its last CONNECT,
   * kept while its session is offline); undefined goes back to the node's.
   */
  setClientMaxOffline (clientId: string, limit: number | undefined): void {
    if (limit === undefined) this.#clientMaxOffline.delete(clientId)
    else this.#clientMaxOffline.set(clientId, limit)
  }

  /** A client's own queue_type (lifo or not; undefined: the node's), kept like setClientMaxOffline's limit. */
  setClientLifo (clientId: string, lifo: boolean | undefined): void {
    if (lifo === undefined) this.#clientLifo.delete(clientId)
    else this.#clientLifo.set(clientId, lifo)
  }

  /** max_offline_messages changed at run time (-1 unlimited, 0 none). */
  setMaxOffline (limit: number): void {
    this.#maxOffline = limit
  }

  setLifo (lifo: boolean): void {
    this.#lifo = lifo
  }

  /** max_offline_messages for this client: its own (auth_on_register) or the node's */
  maxOfflineOf (clientId: string): number {
    return this.#clientMaxOffline.size === 0 ? this.#maxOffline : this.#clientMaxOffline.get(clientId) ?? this.#maxOffline
  }

  lifoOf (clientId: string): boolean {
    return this.#clientLifo.size === 0 ? this.#lifo : this.#clientLifo.get(clientId) ?? this.#lifo
  }
}
