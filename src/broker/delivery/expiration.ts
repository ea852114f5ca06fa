// persistent_client_expiration: a persistent session that stays offline longer
// than that is deleted with its stored subscriptions and queue. Sessions found
// in the store at start count as offline since the start.
import type { BrokerCounters } from '../counters.js'
import type { Logger } from '../log.js'
import type { ClientRef, Persistence, StoredPacket } from '../store/persistence.js'
import type { QueueSettings } from './settings.js'

export interface ExpirationHost {
  readonly settings: QueueSettings
  readonly counters: BrokerCounters
  readonly log: Logger
  readonly mountpoint: string
  readonly persistence: Persistence
  /** client ids holding a persistent session (stored subscriptions) */
  persistentClients: () => string[]
  isOnline: (clientId: string) => boolean
  /** told of each session deleted (webhooks' on_session_expired) */
  expired?: (clientId: string) => void
}

const NEVER_CHECK_MS = 30000
const MIN_CHECK_MS = 250
const MAX_CHECK_MS = 60000

export class ExpirationSweeper {
  private readonly offlineSince = new Map<string, number>()
  private readonly startedAt = Date.now()
  private timer: NodeJS.Timeout | undefined
  /** the expiration the pending check was scheduled for */
  private scheduledFor: number | null = null
  private stopped = false

  constructor (private readonly host: ExpirationHost) {}

  start (): void {
    this.schedule()
    // a new expiration applies at once, not at the next check of the old one
    this.host.settings.onChange?.(() => {
      // (no timer: a sweep is running and schedules the next check itself)
      if (this.host.settings.expirationMs === this.scheduledFor || this.timer === undefined) return
      clearTimeout(this.timer)
      this.schedule()
    })
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
  }

  wentOffline (clientId: string): void {
    this.offlineSince.set(clientId, Date.now())
  }

  cameOnline (clientId: string): void {
    this.offlineSince.delete(clientId)
  }

  /** Deletes the sessions offline for longer than the expiration; returns their ids. */
  async sweep (now = Date.now()): Promise<string[]> {
    const limit = this.host.settings.expirationMs
    const persistent = this.host.persistentClients()
    this.forgetGone(persistent)
    if (limit === null) return []
    const expired: string[] = []
    for (const clientId of persistent) {
      if (this.host.isOnline(clientId)) continue
      const since = this.offlineSince.get(clientId) ?? this.startedAt
      if (now - since < limit) continue
      await this.expire(clientId)
      expired.push(clientId)
    }
    return expired
  }

  /** Sessions that ended otherwise (clean reconnect, moved to another node) need no timestamp. */
  private forgetGone (persistent: string[]): void {
    if (this.offlineSince.size === 0) return
    const ids = new Set(persistent)
    for (const clientId of this.offlineSince.keys()) if (!ids.has(clientId)) this.offlineSince.delete(clientId)
  }

  private async expire (clientId: string): Promise<void> {
    const ref: ClientRef = { id: clientId }
    const { persistence } = this.host
    await persistence.cleanSubscriptions(ref)
    const queued: StoredPacket[] = []
    for await (const packet of persistence.outgoingStream(ref)) queued.push(packet)
    for (const packet of queued) await persistence.outgoingClearMessageId(ref, packet)
    this.offlineSince.delete(clientId)
    this.host.counters.sessionsExpired++
    this.host.expired?.(clientId)
    this.host.log.info({ client: clientId, mountpoint: this.host.mountpoint, messages: queued.length }, 'persistent session expired (persistent_client_expiration)')
  }

  private schedule (): void {
    if (this.stopped) return
    const limit = this.host.settings.expirationMs
    this.scheduledFor = limit
    const delay = limit === null ? NEVER_CHECK_MS : Math.min(Math.max(limit / 4, MIN_CHECK_MS), MAX_CHECK_MS)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.sweep().catch((err: Error) => {
        this.host.log.warn({ mountpoint: this.host.mountpoint, err: err.message }, 'cannot expire persistent sessions')
      }).finally(() => { this.schedule() })
    }, delay)
    this.timer.unref()
  }
}
