// The queue settings as plain fields, refreshed whenever `vmq-admin set`
// changes one, so the delivery path reads a field instead of a map lookup.
import type { Settings } from '../../config/settings.js'
import type { SettingKey } from '../../config/schema.js'

const KEYS: readonly SettingKey[] = [
  'max_inflight_messages', 'max_online_messages', 'queue_type', 'retry_interval',
  'upgrade_outgoing_qos', 'override_max_online_messages', 'allow_multiple_sessions', 'queue_deliver_mode',
  'persistent_client_expiration', 'outgoing_buffer_limit', 'receive_max_client'
]

export class QueueSettings {
  /** unacknowledged QoS 1/2 messages per session; 0 = unlimited */
  maxInflight = 20
  /** receive_max_client: MQTT 5 clients get at most this many unacknowledged QoS 1/2 messages */
  receiveMaxClient = 65535
  /** messages waiting beyond the inflight window; -1 = unlimited */
  maxOnline = 1000
  /** queue_type = lifo: a full queue drops its oldest message instead of the new one */
  lifo = false
  retryMs = 20000
  upgradeQos = false
  overrideMaxOnline = false
  multipleSessions = false
  /** queue_deliver_mode = balance (else fanout) */
  balance = false
  /** outgoing_buffer_limit: bytes pending on one connection before it is closed; 0 = no limit */
  outgoingBufferLimit = 0
  /** persistent_client_expiration in ms; null = never */
  expirationMs: number | null = null

  private readonly watchers: Array<() => void> = []

  constructor (private readonly settings: Settings) {
    this.read()
    settings.watch(KEYS, () => {
      this.read()
      for (const watcher of this.watchers) watcher()
    })
  }

  /** Calls `watcher` after any of these settings changed. */
  onChange (watcher: () => void): void {
    this.watchers.push(watcher)
  }

  private read (): void {
    const s = this.settings
    this.maxInflight = s.number('max_inflight_messages')
    this.receiveMaxClient = s.number('receive_max_client')
    this.maxOnline = s.number('max_online_messages')
    this.lifo = s.string('queue_type') === 'lifo'
    this.retryMs = s.number('retry_interval') * 1000
    this.upgradeQos = s.flag('upgrade_outgoing_qos')
    this.overrideMaxOnline = s.flag('override_max_online_messages')
    this.multipleSessions = s.flag('allow_multiple_sessions')
    this.balance = s.string('queue_deliver_mode') === 'balance'
    this.outgoingBufferLimit = s.number('outgoing_buffer_limit')
    const expiration = s.get('persistent_client_expiration')
    this.expirationMs = typeof expiration === 'number' ? expiration * 1000 : null
  }
}
