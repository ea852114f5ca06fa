// The Prometheus metrics of a node (GET /metrics): one prom-client registry
// per node, its values read from the node's counters at scrape time, so
// counting costs the hot path nothing beyond a plain `n++`.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { BrokerCounters } from '../counters.js'
import { V5_REASON_CODES, packetMetrics, type Series } from './packet-metrics.js'
import type { WebhookCounters } from '../webhooks/counters.js'
import type { BridgeInfo } from '../bridge/bridge.js'

/** What the metrics read from the node at scrape time. */
export interface MetricsSource {
  nodeName: () => string
  namespace: () => string
  counters: BrokerCounters
  cluster: () => ClusterCounts
  /** bytes of the peer links: sent by this node's, received by its server */
  linkTraffic: { sent: number, received: number }
  /** the node's MQTT listeners (not HTTP, not clustering) */
  listeners: () => ListenerConnections[]
  /** summed over the node's mountpoints */
  storeTotals: () => Promise<{ retained: number, subscriptions: number, onlineSessions: number, offlineSessions: number, offlineDropped: number, unwritable: number }>
  /** the webhooks plugin's counts (zero while it never ran) */
  webhooks?: WebhookCounters
  /** the running bridges (none while vmq_bridge is disabled) */
  bridges: () => BridgeInfo[]
}

/** A listener's open connections; `type` as `listener show` prints it (mqtt, mqtts, mqttws, mqttwss). */
export interface ListenerConnections { type: string, address: string, port: number, connections: number }

/** What the node's cluster counts. */
export interface ClusterCounts {
  routedDropped: number
  routedDroppedBy: ReadonlyMap<string, number>
  matchesRemote: number
  bytesDropped: number
  netsplitsDetected: number
  netsplitsResolved: number
}

type CounterField = { [K in keyof BrokerCounters]: BrokerCounters[K] extends number ? K : never }[keyof BrokerCounters]

/** Counters read straight from BrokerCounters fields: metric name, field, help. */
const FIELD_COUNTERS: Array<[string, CounterField, string]> = [
  ['socket_open', 'socketOpen', 'MQTT connections accepted.'],
  ['socket_close', 'socketClose', 'MQTT connections closed.'],
  ['bytes_received', 'bytesReceived', 'Bytes received on MQTT connections (inside TLS and WebSocket framing).'],
  ['bytes_sent', 'bytesSent', 'Bytes sent on MQTT connections (inside TLS and WebSocket framing).'],
  ['queue_message_in', 'queueIn', 'Messages that entered a session queue: handed to a connected session, or stored for an offline persistent session.'],
  ['queue_message_out', 'publishSent', 'Messages that left a session queue: sent to the client (resends not included).'],
  ['router_matches_local', 'matchesLocal', 'Messages published on this node delivered to a subscriber on this node.'],
  ['queue_message_expired', 'messagesExpired', 'Messages not delivered because their MQTT 5 Message Expiry Interval passed.'],
  ['queue_message_retried', 'retried', 'Unacknowledged QoS 1/2 messages sent again after retry_interval.'],
  ['queue_message_too_large_for_client', 'tooLargeForClient', 'Messages not sent because they exceed the Maximum Packet Size the client set.'],
  ['client_slow_consumer_closed', 'slowConsumersClosed', 'Connections closed because more than outgoing_buffer_limit bytes waited to be written.'],
  ['session_expired', 'sessionsExpired', 'Offline persistent sessions deleted after persistent_client_expiration.'],
  ['mqtt_invalid_msg_size_error', 'oversizeRefused', 'PUBLISHes refused for exceeding max_message_size.'],
  ['socket_close_timeout', 'connectTimeouts', 'Connections closed because no CONNECT arrived within mqtt_connect_timeout.'],
  ['client_keepalive_expired', 'keepalivesExpired', 'Connections closed because nothing arrived for 1.5 times their keep alive.'],
  ['mqtt_protocol_error', 'protocolErrors', 'Connections closed for a packet that breaks the protocol.'],
  ['mqtt_internal_error', 'internalErrors', 'Connections closed because handling one of their packets threw.']
]

/** VerneMQ's label values for CONNACK codes (vmq_metrics.erl) */
const V4_RETURN_CODES: Record<number, string> = {
  0: 'success', 1: 'unsupported_protocol_version', 2: 'client_identifier_not_valid', 3: 'server_unavailable', 4: 'bad_username_or_password', 5: 'not_authorized'
}

/** One series as `metrics show` prints it: name without the namespace, labels without `node`. */
export interface MetricSeries {
  name: string
  type: 'counter' | 'gauge' | 'histogram'
  help: string
  labels: Record<string, string>
  value: number
}

/** One metric of the node, its labelled series summed (as VerneMQ's `metrics show` aggregates them). */
export interface MetricValue { name: string, type: string, value: number }

export class NodeMetrics {
  private registry: Registry | undefined
  private builtFor = ''
  /**
   * The broker's counters as they were at the last `metrics reset`, by series:
   * /metrics and `metrics show` report what was counted since (VerneMQ resets
   * its counters in place; ours are read from fields other code increments).
   */
  private readonly baseline = new Map<string, number>()
  private readonly resettable: Array<{ name: string, read: () => Promise<Series> }> = []
  /** full names of the node's own metrics (not Node.js process metrics) */
  private own = new Set<string>()

  constructor (private readonly source: MetricsSource) {}

  get contentType (): string { return this.current().contentType }

  async text (): Promise<string> {
    return await this.current().metrics()
  }

  /** Every series of the registry, the same values /metrics serves. */
  async series (): Promise<MetricSeries[]> {
    const ns = this.source.namespace()
    const out: MetricSeries[] = []
    for (const metric of await this.current().getMetricsAsJSON()) {
      const type = String(metric.type)
      if (type !== 'counter' && type !== 'gauge' && type !== 'histogram') continue
      for (const v of metric.values) {
        const { node: _node, ...labels } = v.labels as Record<string, string | number>
        const name = (v as { metricName?: string }).metricName ?? metric.name
        out.push({
          name: name.startsWith(ns) ? name.slice(ns.length) : name,
          type,
          help: metric.help,
          labels: Object.fromEntries(Object.entries(labels).map(([k, l]) => [k, String(l)])),
          value: v.value
        })
      }
    }
    return out
  }

  /** Starts the broker's counters again from 0 (gauges and the process metrics are not counters of ours: unchanged). */
  async resetCounters (): Promise<void> {
    this.current()
    const now = await Promise.all(this.resettable.map(async c => ({ name: c.name, series: await c.read() })))
    for (const { name, series } of now) for (const [labels, value] of series) this.baseline.set(seriesKey(name, labels), value)
  }

  private sinceReset (name: string, labels: Record<string, string>, value: number): number {
    return Math.max(0, value - (this.baseline.get(seriesKey(name, labels)) ?? 0))
  }

  /**
   * The node's own metrics (no Node.js process metrics), without namespace,
   * read at the same moment from the same registry as /metrics.
   */
  async snapshot (): Promise<MetricValue[]> {
    const namespace = this.source.namespace()
    const registry = this.current()
    const own = this.own
    const all = await registry.getMetricsAsJSON()
    // a labelled metric without series yet (no member dropped anything) is not shown, as on /metrics
    return all.filter(m => own.has(m.name) && m.values.length > 0).map(m => ({
      name: m.name.slice(namespace.length),
      type: String(m.type),
      value: m.values.reduce((sum, v) => sum + v.value, 0)
    }))
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
    this.resettable.length = 0
    const metrics = this
    /** A counter of the broker: its series read at scrape time, minus what they were at the last reset. */
    const labelled = (name: string, help: string, labelNames: string[], read: () => Series | Promise<Series>): void => {
      this.resettable.push({ name, read: async () => await read() })
      // eslint-disable-next-line no-new
      new Counter({
        name: ns + name,
        help,
        labelNames,
        registers,
        async collect () {
          const series = await read()
          this.reset()
          for (const [labels, value] of series) this.inc(labels, metrics.sinceReset(name, labels, value))
        }
      })
    }
    const counter = (name: string, help: string, read: () => number | Promise<number>): void => {
      labelled(name, help, [], async () => [[{}, await read()]])
    }
    for (const [name, field, help] of FIELD_COUNTERS) counter(name, help, () => src.counters[field])
    labelled('mqtt_publish_received', 'PUBLISH packets received from clients.', ['mqtt_version'], () => [
      [{ mqtt_version: '4' }, src.counters.publishReceived4],
      [{ mqtt_version: '5' }, src.counters.publishReceived5]
    ])
    labelled('mqtt_publish_sent', 'PUBLISH packets sent to clients (resends, with DUP set, not included).', ['mqtt_version'], () => [
      [{ mqtt_version: '4' }, src.counters.packetsSent[0][3]],
      [{ mqtt_version: '5' }, src.counters.packetsSent[1][3]]
    ])
    labelled('mqtt_connack_sent', 'CONNACK packets sent, by return code (MQTT 3.1.1) or reason code (MQTT 5).', ['mqtt_version', 'return_code', 'reason_code'], () => {
      const series: Series = []
      if (!src.counters.connacks[4].has(0)) series.push([{ mqtt_version: '4', return_code: 'success' }, 0])
      for (const [code, n] of src.counters.connacks[4]) series.push([{ mqtt_version: '4', return_code: V4_RETURN_CODES[code] ?? String(code) }, n])
      for (const [code, n] of src.counters.connacks[5]) series.push([{ mqtt_version: '5', reason_code: V5_REASON_CODES[code] ?? String(code) }, n])
      return series
    })
    for (const p of packetMetrics(src.counters)) labelled(p.name, p.help, ['mqtt_version', 'reason_code'], p.read)
    counter('router_matches_remote', 'Messages published on this node sent to another member (once per member with matching subscriptions).', () => src.cluster().matchesRemote)
    counter('cluster_routed_dropped', 'Publishes routed to another member and dropped (member unreachable, too slow, or removed).', () => src.cluster().routedDropped)
    labelled('cluster_peer_routed_dropped', 'Publishes routed to a member and dropped, by member (peer).', ['peer'],
      () => [...src.cluster().routedDroppedBy].map(([peer, n]) => [{ peer }, n]))
    counter('cluster_bytes_sent', 'Bytes this node sent to other members on its cluster links.', () => src.linkTraffic.sent)
    counter('cluster_bytes_received', 'Bytes received from other members on their cluster links.', () => src.linkTraffic.received)
    counter('cluster_bytes_dropped', 'Bytes of routed publishes dropped instead of sent to a member.', () => src.cluster().bytesDropped)
    counter('netsplit_detected', 'Links to a member that went down.', () => src.cluster().netsplitsDetected)
    counter('netsplit_resolved', 'Links to a member that came up again after going down.', () => src.cluster().netsplitsResolved)
    const gauge = (name: string, help: string, read: () => number | Promise<number>): void => {
      // eslint-disable-next-line no-new
      new Gauge({ name: ns + name, help, registers, async collect () { this.set(await read()) } })
    }
    const open = (types: string[]): number => src.listeners().reduce((n, l) => n + (types.includes(l.type) ? l.connections : 0), 0)
    gauge('active_mqtt_connections', 'Open connections on the MQTT and MQTT over TLS listeners.', () => open(['mqtt', 'mqtts']))
    gauge('active_mqttws_connections', 'Open connections on the WebSocket listeners (with or without TLS).', () => open(['mqttws', 'mqttwss']))
    gauge('total_active_connections', 'Open connections on every MQTT listener.', () => open(['mqtt', 'mqtts', 'mqttws', 'mqttwss']))
    // eslint-disable-next-line no-new
    new Gauge({
      name: ns + 'listener_active_connections',
      help: 'Open connections, by MQTT listener (type, address and port as listener show prints them).',
      labelNames: ['type', 'address', 'port'],
      registers,
      collect () {
        this.reset()
        for (const l of src.listeners()) this.set({ type: l.type, address: l.address, port: String(l.port) }, l.connections)
      }
    })
    // one store read per metric: cheap (in-memory counts), and scrapes are rare
    counter('queue_message_drop', 'Messages dropped: an online queue at max_online_messages or outgoing_buffer_limit, or an offline queue at max_offline_messages.',
      async () => src.counters.onlineDropped + (await src.storeTotals()).offlineDropped)
    gauge('retain_messages', 'Retained messages stored.', async () => (await src.storeTotals()).retained)
    gauge('router_subscriptions', 'Subscriptions in the store.', async () => (await src.storeTotals()).subscriptions)
    gauge('sessions_online', 'Connected clients.', async () => (await src.storeTotals()).onlineSessions)
    gauge('sessions_offline', 'Persistent sessions without a connected client.', async () => (await src.storeTotals()).offlineSessions)
    gauge('store_unwritable', 'Durable stores (one per mountpoint) that take no writes since one failed, and refuse new persistent sessions; each checks every 5 s whether it can write again.',
      async () => (await src.storeTotals()).unwritable)
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
    const webhooks = src.webhooks
    if (webhooks !== undefined) {
      for (const [hook, counts] of webhooks.byHook) {
        counter(`webhooks_${hook}_requests`, `Number of requests to ${hook} webhooks.`, () => counts.requests)
        counter(`webhooks_${hook}_errors`, `Number of errors calling ${hook} webhooks (failed calls and {"error"} answers).`, () => counts.errors)
        counter(`webhooks_${hook}_bytes_sent`, `Number of bytes sent to ${hook} webhooks.`, () => counts.bytesSent)
      }
      counter('webhooks_notifications_dropped', 'on_* webhook calls dropped because 32 were running and 10000 waiting for their endpoint.', () => webhooks.notificationsDropped)
    }
    this.own = new Set(registry.getMetricsAsArray().map(m => (m as unknown as { name: string }).name))
    collectDefaultMetrics({ register: registry, prefix: ns })
    return registry
  }
}

function seriesKey (name: string, labels: Record<string, string>): string {
  return name + JSON.stringify(Object.entries(labels).sort())
}
