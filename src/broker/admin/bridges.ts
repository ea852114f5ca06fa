// `vmq-admin bridge show`: one row per bridge of this node.
import { InvalidRequest } from '../../errors.js'
import type { Table } from '../../rpc/generated/vmq/Table.js'
import { toTable } from '../../rpc/table.js'
import type { AdminHost } from './host.js'

export const BRIDGE_COLUMNS = ['name', 'endpoint', 'status', 'buffer size', 'buffer max', 'buffer dropped msgs', 'sent', 'received', 'last error']

export function bridgeShow (node: AdminHost): Table {
  if (!node.plugins.running().some(p => p.name === 'vmq_bridge')) {
    throw new InvalidRequest('The vmq_bridge plugin is not enabled (plugins.vmq_bridge = on, or vmq-admin plugin enable -n vmq_bridge)')
  }
  return toTable(BRIDGE_COLUMNS, node.bridges.info().map(b => ({
    name: b.name,
    endpoint: `${b.transport}://${b.endpoint}`,
    status: b.status,
    'buffer size': b.buffered,
    'buffer max': b.bufferMax,
    'buffer dropped msgs': b.dropped,
    sent: b.sent,
    received: b.received,
    'last error': b.lastError
  })))
}
