// `metrics show`, `metrics reset` and `node status`: read from the node's
// metrics registry (the values GET /metrics serves), and for the cluster from
// every running member through the admin fan-out.
import { askPeers } from '../../cluster/fanout.js'
import type { MetricSample } from '../../rpc/generated/vmq/MetricSample.js'
import type { MetricsReply, MetricsReply__Output } from '../../rpc/generated/vmq/MetricsReply.js'
import type { MetricsRequest__Output } from '../../rpc/generated/vmq/MetricsRequest.js'
import type { Table } from '../../rpc/generated/vmq/Table.js'
import type { TextReply } from '../../rpc/generated/vmq/TextReply.js'
import { toTable } from '../../rpc/table.js'
import type { AdminHost } from './host.js'
import { packageVersion } from '../../version.js'

/** This node's series, and unless asked by a peer those of every running member. */
export async function metricsShow (node: AdminHost, request: MetricsRequest__Output): Promise<MetricsReply> {
  const samples: MetricSample[] = (await node.monitoringSource().metrics.series()).map(s => ({ ...s, node: node.name }))
  if (request.localOnly) return { samples, warnings: [] }
  const peers = await askPeers<MetricsRequest__Output, MetricsReply__Output>(node.cluster, 'MetricsShow', { localOnly: true })
  for (const { reply } of peers.answers) samples.push(...reply.samples)
  return { samples, warnings: peers.warnings.map(w => `${w}: its metrics are not included`) }
}

/** Resets the counters here, and unless asked by a peer on every running member; a member that cannot be asked is an error. */
export async function metricsReset (node: AdminHost, request: MetricsRequest__Output): Promise<TextReply> {
  await node.monitoringSource().metrics.resetCounters()
  node.log.info('metrics counters reset with vmq-admin')
  if (request.localOnly) return { text: 'Done' }
  const peers = await askPeers<MetricsRequest__Output, TextReply>(node.cluster, 'MetricsReset', { localOnly: true })
  if (peers.warnings.length > 0) return { text: `Done; not reset: ${peers.warnings.join('; ')}` }
  return { text: 'Done' }
}

/**
 * This node's `Status`/`Value` rows: VerneMQ's node status counts (as far as
 * vmq-ts keeps them) plus what an operator checks first: name, version,
 * uptime, cluster membership and listeners.
 */
export async function nodeStatus (node: AdminHost): Promise<Table> {
  const series = await node.monitoringSource().metrics.series()
  const sum = (name: string): number => series.filter(s => s.name === name).reduce((n, s) => n + s.value, 0)
  const members = node.cluster.show()
  const rows: Array<[string, string | number]> = [
    ['node', node.name],
    ['version', packageVersion()],
    ['uptime', uptime(process.uptime())],
    ['cluster_size', members.length],
    ['cluster_running', members.filter(m => m.running).length],
    ['num_online', sum('sessions_online')],
    ['num_offline', sum('sessions_offline')],
    ['msg_in', sum('mqtt_publish_received')],
    ['msg_out', sum('mqtt_publish_sent')],
    ['queue_drop', sum('queue_message_drop')],
    ['num_subscriptions', sum('router_subscriptions')],
    ['num_retained', sum('retain_messages')],
    ['active_connections', sum('active_mqtt_connections')],
    ['cluster_dropped', droppedByMember(series, members.filter(m => m.name !== node.name).map(m => m.name))],
    ['listeners', node.listeners.all().map(l => `${l.kind} ${hostPort(l.config.host, l.port())} ${l.status}`).join('\n')]
  ]
  return toTable(['Status', 'Value'], rows.map(([Status, Value]) => ({ Status, Value })))
}


/**
 * Publishes this node routed to each other member and its link dropped
 * (cluster_peer_routed_dropped, so `metrics reset` resets them too): one
 * `<member> <count>` line each, a member that never dropped any with 0.
 */
function droppedByMember (series: Array<{ name: string, labels: Record<string, string>, value: number }>, others: string[]): string {
  const dropped = new Map<string, number>()
  for (const s of series) {
    if (s.name === 'cluster_peer_routed_dropped') dropped.set(s.labels.peer, (dropped.get(s.labels.peer) ?? 0) + s.value)
  }
  const names = [...new Set([...others, ...dropped.keys()])]
  return names.map(name => `${name} ${dropped.get(name) ?? 0}`).join('\n')
}

/** `3d 04:05:06` */
export function uptime (seconds: number): string {
  const s = Math.floor(seconds)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${Math.floor(s / 86400)}d ${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
}

function hostPort (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

