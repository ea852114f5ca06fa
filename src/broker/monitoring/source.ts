// What the HTTP listener reads from its node: listeners, cluster links,
// counters and store sizes.
import type { BrokerNode } from '../node.js'
import type { MonitoringSource } from './http.js'
import { NodeMetrics } from './metrics.js'

export function monitoringSource (node: BrokerNode): MonitoringSource {
  const mqttListeners = (): ReturnType<BrokerNode['listeners']['all']> => node.listeners.all().filter(l => l.kind !== 'http' && l.kind !== 'https')
  const metrics = new NodeMetrics({
    nodeName: () => node.name,
    namespace: () => node.settings.string('prometheus_namespace'),
    counters: node.counters,
    routedDropped: () => node.cluster.routedDropped,
    activeConnections: () => mqttListeners().reduce((n, l) => n + l.connections(), 0),
    storeTotals: async () => {
      const totals = { retained: 0, subscriptions: 0, onlineSessions: node.sessions.count(), offlineSessions: 0, offlineDropped: 0 }
      for (const instance of await node.allInstances()) {
        const stats = instance.store.stats()
        totals.retained += stats.retainedMessages
        totals.subscriptions += stats.subscriptions
        totals.offlineDropped += stats.offlineDropped
        totals.offlineSessions += instance.persistentClients().filter(id => node.sessions.connections(instance.mountpoint, id).length === 0).length
      }
      return totals
    }
  })
  return {
    metrics,
    listeners: mqttListeners,
    peers: () => node.cluster.peers()
  }
}
