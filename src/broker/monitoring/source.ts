// What the HTTP listener serves from its node: the routes of the metrics and
// health modules (other modules add theirs to node.http), counters and store
// sizes, the listeners and cluster links the health checks read.
import { askPeers } from '../../cluster/fanout.js'
import { linkTraffic } from '../../rpc/link-traffic.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'
import type { AdminHost } from '../admin/host.js'
import { fullClusterHealth, health, listenersHealth, type HealthAnswer, type HealthSource, type MemberListeners } from './health.js'
import type { MonitoringSource } from './http.js'
import { NodeMetrics } from './metrics.js'
import { clusterStatus } from './cluster-status.js'
import { storeTotals } from './store-totals.js'
import { reply, replyJson } from './routes.js'
import { statusPage } from './status-page.js'

export function monitoringSource (node: AdminHost): MonitoringSource {
  const mqttListeners = (): ReturnType<AdminHost['listeners']['all']> => node.listeners.all().filter(l => l.kind !== 'http' && l.kind !== 'https')
  const metrics = new NodeMetrics({
    nodeName: () => node.name,
    namespace: () => node.settings.string('prometheus_namespace'),
    counters: node.counters,
    cluster: () => node.cluster,
    linkTraffic,
    listeners: () => mqttListeners().map(l => ({ type: l.kind, address: l.config.host, port: l.port(), connections: l.connections() })),
    storeTotals: async () => await storeTotals(node),
    webhooks: node.plugins.webhookCounters,
    bridges: () => node.bridges.info()
  })
  const healthSource: HealthSource = {
    listeners: mqttListeners,
    peers: () => node.cluster.peers(),
    stores: async () => (await node.allInstances()).map(i => ({ path: i.store.path, writeFailure: i.store.writeFailure() }))
  }
  const send = (res: Parameters<typeof replyJson>[0], a: HealthAnswer): void => { replyJson(res, a.code, a.body) }
  const routes = node.http
  routes.add({
    path: '/metrics',
    module: 'vmq_metrics_http',
    handle: async (_req, res) => { reply(res, 200, metrics.contentType, await metrics.text()) }
  })
  routes.add({ path: '/health', module: 'vmq_health_http', handle: async (_req, res) => { send(res, await health(healthSource)) } })
  routes.add({ path: '/health/ping', module: 'vmq_health_http', handle: (_req, res) => { send(res, { code: 200, body: { status: 'OK' } }) } })
  routes.add({ path: '/health/listeners', module: 'vmq_health_http', handle: (_req, res) => { send(res, listenersHealth(healthSource)) } })
  routes.add({
    path: '/health/listeners_full_cluster',
    module: 'vmq_health_http',
    handle: async (_req, res) => { send(res, await fullClusterHealth(healthSource, node.name, async () => await memberListeners(node))) }
  })
  // the status page: one static file, and every member's figures for it
  routes.add({ path: '/status', module: 'vmq_status_http', handle: (_req, res) => { reply(res, 200, 'text/html; charset=utf-8', statusPage()) } })
  routes.add({ path: '/status.json', module: 'vmq_status_http', handle: async (_req, res) => { replyJson(res, 200, await clusterStatus(node)) } })
  return {
    metrics,
    routes,
    authMode: module => node.settings.string(`http_module.${module}.auth.mode`),
    apiKeys: node.apiKeys
  }
}

/** `listener show` of every running member. */
async function memberListeners (node: AdminHost): Promise<MemberListeners[]> {
  const peers = await askPeers<object, Table__Output>(node.cluster, 'ListenerShow', { tls: false, mqtt: false })
  const answered: MemberListeners[] = peers.answers.map(({ member, reply }) => ({
    name: member,
    rows: fromTable(reply).map(r => ({ type: String(r.type), status: String(r.status), address: String(r.address), port: String(r.port) }))
  }))
  // members that are not running are reported as offline already
  const silent = peers.warnings.filter(w => !/ is not running /.test(w)).map(w => {
    const name = w.split(' ')[1] ?? '?'
    return { name, problem: w.slice(`node ${name} `.length) }
  })
  return [...answered, ...silent]
}
