// The sizes of a node's stores, summed over its mountpoints, for /metrics and the status page.
import type { AdminHost } from '../admin/host.js'

export interface StoreTotals {
  retained: number
  subscriptions: number
  onlineSessions: number
  offlineSessions: number
  offlineDropped: number
  /** messages in offline queues, and waiting in the connected sessions' queues */
  queued: number
  /** stores that take no writes since one failed */
  unwritable: number
}

/** The node's store sizes, summed over its mountpoints. */
export async function storeTotals (node: AdminHost): Promise<StoreTotals> {
  const totals = { retained: 0, subscriptions: 0, onlineSessions: node.sessions.count(), offlineSessions: 0, offlineDropped: 0, queued: 0, unwritable: 0 }
  for (const instance of await node.allInstances()) {
    const stats = instance.store.stats()
    totals.retained += stats.retainedMessages
    totals.subscriptions += stats.subscriptions
    totals.offlineDropped += stats.offlineDropped
    if (instance.store.writeFailure() !== undefined) totals.unwritable++
    const offline = instance.persistentClients().filter(id => node.sessions.connections(instance.mountpoint, id).length === 0)
    totals.offlineSessions += offline.length
    totals.queued += instance.queues.waitingMessages() + offline.reduce((n, id) => n + instance.store.queueLength(id), 0)
  }
  return totals
}
