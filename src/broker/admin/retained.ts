// `retain show` and `retain delete` on a node. The retained store is replicated
// to every member, so show reads this node only; delete stores the deletion (an
// empty payload) here and on every reachable member.
import { filterMatches } from '../../mqtt/topic.js'
import { InvalidRequest } from '../../errors.js'
import { RETAIN_DEFAULT_COLUMNS, RETAIN_FIELDS } from '../../rpc/query-fields.js'
import type { AdminHost } from './host.js'
import { matchesAll, project, sortRows, type Query, type QueryShape, type Row } from './query.js'

export const RETAIN_SHAPE: QueryShape = {
  fields: Object.keys(RETAIN_FIELDS),
  defaults: RETAIN_DEFAULT_COLUMNS,
  sortBy: ['mountpoint', 'topic'],
  textOnly: ['mountpoint', 'payload'],
  // --topic=<filter> may hold MQTT wildcards
  matchers: { topic: (filter, value) => typeof value === 'string' && filterMatches(filter, value) }
}

/**
 * This node's retained messages matching the query. Without a mountpoint
 * filter only the default mountpoint ("") is shown, as in VerneMQ, unless the
 * mountpoint column is asked for.
 */
export async function localRetainedRows (node: AdminHost, query: Query): Promise<Row[]> {
  const byMountpoint = query.filters.some(f => f.field === 'mountpoint') || query.columns.includes('mountpoint')
  const rows: Row[] = []
  for (const { mountpoint, persistence } of await node.allInstances()) {
    if (!byMountpoint && mountpoint !== '') continue
    for await (const packet of persistence.createRetainedStreamCombi(['#'])) {
      const row = { mountpoint, topic: packet.topic, payload: Buffer.from(packet.payload).toString('utf8') }
      if (matchesAll(query, row)) rows.push(row)
    }
  }
  return sortRows(rows, query.order).slice(0, query.limit).map(row => project(query, row))
}

/** Deletes a retained message on every reachable member (latest write wins there). */
export async function deleteRetained (node: AdminHost, mountpoint: string, topic: string): Promise<void> {
  if (topic === '' || topic.includes('+') || topic.includes('#') || topic.includes('\u0000')) throw new InvalidRequest('No valid topic given.')
  const { persistence } = await node.instance(mountpoint)
  const empty = Buffer.alloc(0)
  await persistence.storeRetained({ cmd: 'publish', topic, payload: empty, qos: 0, retain: true })
  await node.cluster.replicateRetain(mountpoint, topic, empty, 0)
  node.log.info({ topic, mountpoint }, 'retained message deleted by vmq-admin')
}
