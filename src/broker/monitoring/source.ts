// What the HTTP listener reads from its node: listeners, cluster links,
// counters, store sizes and the members' status.
import type { BrokerNode } from '../node.js'
import type { MonitoringSource } from './http.js'
import { NodeMetrics } from './metrics.js'
import { clusterStatus } from './cluster-status.js'
import { storeTotals } from './store-totals.js'

export function monitoringSource (node: BrokerNode): MonitoringSource {
  const mqttListeners = (): ReturnType<BrokerNode['listeners']['all']> => node.listeners.all().filter(l => l.kind !== 'http' && l.kind !== 'https')
  const metrics = new NodeMetrics({
    nodeName: () => node.name,
    namespace: () => node.settings.string('prometheus_namespace'),
    counters: node.counters,
    routedDropped: () => node.cluster.routedDropped,
    activeConnections: () => mqttListeners().reduce((n, l) => n + l.connections(), 0),
    storeTotals: async () => await storeTotals(node),
    bridges: () => node.bridges.info()
  })
  return {
    metrics,
    listeners: mqttListeners,
    peers: () => node.cluster.peers(),
    status: async () => await clusterStatus(node)
  }
}
