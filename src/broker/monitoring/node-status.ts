// One node's figures for the status page (its entry of GET /status.json), as
// VerneMQ's vmq_status_http reports them; members answer the StatusEntry RPC
// with it.
import { clusterListener } from '../../config/load.js'
import type { NodeStatus } from '../../rpc/generated/vmq/NodeStatus.js'
import type { StatusListener } from '../../rpc/generated/vmq/StatusListener.js'
import { maxConnections } from '../listeners/types.js'
import type { AdminHost } from '../admin/host.js'
import { storeTotals } from './store-totals.js'
import { packageVersion } from '../../version.js'

export async function statusEntry (node: AdminHost): Promise<NodeStatus> {
  const c = node.counters
  const totals = await storeTotals(node)
  const drop = c.onlineDropped + totals.offlineDropped
  return {
    node: node.name,
    version: packageVersion(),
    numOnline: totals.onlineSessions,
    numOffline: totals.offlineSessions,
    msgIn: c.publishReceived4 + c.publishReceived5,
    msgOut: c.publishSent,
    // queue_in is not counted on the hot path: it is what makes the page's
    // "Msg Queued" (queue_in - out - drop - unhandled) the messages waiting now
    queueIn: c.publishSent + drop + totals.queued,
    queueOut: c.publishSent,
    queueDrop: drop,
    // VerneMQ counts messages of a queue torn down before it handed them on;
    // here such a session's messages stay stored with it, so none are unhandled
    queueUnhandled: 0,
    numSubscriptions: totals.subscriptions,
    numRetained: totals.retained,
    connects: (c.connacks[4].get(0) ?? 0) + (c.connacks[5].get(0) ?? 0),
    members: node.cluster.show().map(m => ({ name: m.name, running: m.running })),
    listeners: listeners(node)
  }
}

function listeners (node: AdminHost): StatusListener[] {
  const rows: StatusListener[] = node.listeners.all().map(l => {
    const max = maxConnections(l.config)
    return {
      type: l.kind,
      status: l.status,
      ip: l.config.host,
      port: l.port(),
      mountpoint: String(l.config.options.get('mountpoint') ?? ''),
      maxConns: Number.isFinite(max) ? String(max) : 'infinity'
    }
  })
  const cluster = clusterListener(node.config.listeners)
  if (cluster !== undefined) {
    rows.push({ type: cluster.type, status: 'running', ip: cluster.host, port: node.clusterPort(), mountpoint: '', maxConns: 'infinity' })
  }
  return rows
}
