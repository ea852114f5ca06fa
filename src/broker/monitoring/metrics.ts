// The Prometheus metrics of a node (GET /metrics): one prom-client registry
// per node, its values read from the node's counters at scrape time, so
// counting costs the hot path nothing beyond a plain `n++`.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { BrokerCounters } from '../counters.js'
import type { BridgeInfo } from '../bridge/bridge.js'

/** What the metrics read from the node at scrape time. */
export interface MetricsSource {
  nodeName: () => string
  namespace: () => string
  counters: BrokerCounters
  routedDropped: () => number
  activeConnections: () => number
  /** summed over the node's mountpoints */
  storeTotals: () => Promise<{ retained: number, subscriptions: number, onlineSessions: number, offlineSessions: number, offlineDropped: number }>
  /** the running bridges (none while vmq_bridge is disabled) */
  bridges: () => BridgeInfo[]
}

type CounterField = { [K in keyof BrokerCounters]: BrokerCounters[K] extends number ? K : never }[keyof BrokerCounters]

/** Counters read straight from BrokerCounters fields: metric name, field, help. */
const FIELD_COUNTERS: Array<[string, CounterField, string]> = [
  ['socket_open', 'socketOpen', 'MQTT connections accepted.'],
  ['socket_close', 'socketClose', 'MQTT connections closed.'],
  ['mqtt_publish_sent', 'publishSent', 'PUBLISH packets sent to clients (resends not included).'],
  ['queue_message_expired', 'messagesExpired', 'Messages not delivered because their MQTT 5 Message Expiry Interval passed.'],
  ['queue_message_retried', 'retried', 'Unacknowledged QoS 1/2 messages sent again after retry_interval.'],
  ['queue_message_too_large_for_client', 'tooLargeForClient', 'Messages not sent because they exceed the Maximum Packet Size the client set.'],
  ['client_slow_consumer_closed', 'slowConsumersClosed', 'Connections closed because more than outgoing_buffer_limit bytes waited to be written.'],
  ['session_expired', 'sessionsExpired', 'Offline persistent sessions deleted after persistent_client_expiration.'],
  ['mqtt_invalid_msg_size_error', 'oversizeRefused', 'PUBLISHes refused for exceeding max_message_size.'],
  ['socket_close_timeout', 'connectTimeouts', 'Connections closed because no CONNECT arrived within mqtt_connect_timeout.'],
  ['mqtt_protocol_error', 'protocolErrors', 'Connections closed for a packet that breaks the protocol.'],
  ['mqtt_internal_error', 'internalErrors', 'Connections closed because handling one of their packets threw.']
]

/** VerneMQ's label values for CONNACK codes (vmq_metrics.erl) */
const V4_RETURN_CODES: Record<number, string> = {
  0: 'success', 1: 'unsupported_protocol_version', 2: 'client_identifier_not_valid', 3: 'server_unavailable', 4: 'bad_username_or_password', 5: 'not_authorized'
}
const V5_REASON_CODES: Record<number, string> = {
  0x00: 'success', 0x80: 'unspecified_error', 0x81: 'malformed_packet', 0x82: 'protocol_error', 0x83: 'impl_specific_error',
  0x84: 'unsupported_protocol_version', 0x85: 'client_identifier_not_valid', 0x86: 'bad_username_or_password', 0x87: 'not_authorized',
  0x88: 'server_unavailable', 0x89: 'server_busy', 0x8A: 'banned', 0x8C: 'bad_authentication_method', 0x90: 'topic_name_invalid',
  0x95: 'packet_too_large', 0x97: 'quota_exceeded', 0x99: 'payload_format_invalid', 0x9A: 'retain_not_supported', 0x9B: 'qos_not_supported',
  0x9C: 'use_another_server', 0x9D: 'server_moved', 0x9F: 'connection_rate_exceeded'
}

export class NodeMetrics {
  private registry: Registry | undefined
  private builtFor = ''

  constructor (private readonly source: MetricsSource) {}

  get contentType (): string { return this.current().contentType }

  async text (): Promise<string> {
    return await this.current().metrics()
  }

  /** The registry for the current prometheus_namespace (rebuilt when it changes). */
  private current (): Registry {
    const namespace = this.source.namespace()
    if (this.registry === undefined || this.builtFor !== namespace) {
      this.registry = this.build(namespace)
      this.builtFor = namespace
    }
    return this.registry
  }

  private build (ns: string): Registry {
    const src = this.source
    const registry = new Registry()
    registry.setDefaultLabels({ node: src.nodeName() })
    const registers = [registry]
    const counter = (name: string, help: string, read: () => number | Promise<number>): void => {
      // eslint-disable-next-line no-new
      new Counter({ name: ns + name, help, registers, async collect () { this.reset(); this.inc(await read()) } })
    }
    for (const [name, field, help] of FIELD_COUNTERS) counter(name, help, () => src.counters[field])
    // eslint-disable-next-line no-new
    new Counter({
      name: ns + 'mqtt_publish_received',
      help: 'PUBLISH packets received from clients.',
      labelNames: ['mqtt_version'],
      registers,
      collect () {
        this.reset()
        this.inc({ mqtt_version: '4' }, src.counters.publishReceived4)
        this.inc({ mqtt_version: '5' }, src.counters.publishReceived5)
      }
    })
    // eslint-disable-next-line no-new
    new Counter({
      name: ns + 'mqtt_connack_sent',
      help: 'CONNACK packets sent, by return code (MQTT 3.1.1) or reason code (MQTT 5).',
      labelNames: ['mqtt_version', 'return_code', 'reason_code'],
      registers,
      collect () {
        this.reset()
        this.inc({ mqtt_version: '4', return_code: 'success' }, 0)
        for (const [code, n] of src.counters.connacks[4]) this.inc({ mqtt_version: '4', return_code: V4_RETURN_CODES[code] ?? String(code) }, n)
        for (const [code, n] of src.counters.connacks[5]) this.inc({ mqtt_version: '5', reason_code: V5_REASON_CODES[code] ?? String(code) }, n)
      }
    })
    counter('cluster_routed_dropped', 'Publishes routed to another member and dropped (member unreachable, too slow, or removed).', src.routedDropped)
    const gauge = (name: string, help: string, read: () => number | Promise<number>): void => {
      // eslint-disable-next-line no-new
      new Gauge({ name: ns + name, help, registers, async collect () { this.set(await read()) } })
    }
    gauge('active_mqtt_connections', 'Open connections on the MQTT listeners.', src.activeConnections)
    // one store read per metric: cheap (in-memory counts), and scrapes are rare
    counter('queue_message_drop', 'Messages dropped: an online queue at max_online_messages or an offline queue at max_offline_messages.',
      async () => src.counters.onlineDropped + (await src.storeTotals()).offlineDropped)
    gauge('retain_messages', 'Retained messages stored.', async () => (await src.storeTotals()).retained)
    gauge('router_subscriptions', 'Subscriptions in the store.', async () => (await src.storeTotals()).subscriptions)
    gauge('sessions_online', 'Connected clients.', async () => (await src.storeTotals()).onlineSessions)
    gauge('sessions_offline', 'Persistent sessions without a connected client.', async () => (await src.storeTotals()).offlineSessions)
    // eslint-disable-next-line no-new
    new Counter({
      name: ns + 'bridge_dropped_messages',
      help: 'Messages a bridge did not forward: the remote broker was unreachable and max_outgoing_buffered_messages were buffered.',
      labelNames: ['bridge'],
      registers,
      collect () {
        this.reset()
        for (const b of src.bridges()) this.inc({ bridge: b.name }, b.dropped)
      }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: ns + 'bridge_buffered_messages',
      help: 'Messages a bridge holds for its remote broker until it is reachable again.',
      labelNames: ['bridge'],
      registers,
      collect () {
        this.reset()
        for (const b of src.bridges()) this.set({ bridge: b.name }, b.buffered)
      }
    })
    collectDefaultMetrics({ register: registry, prefix: ns })
    return registry
  }
}
