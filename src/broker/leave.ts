// `cluster leave` for this node. Without -k: stop accepting MQTT connections.
// With -k: disconnect every client, move each persistent session (its
// subscriptions and queued messages) to a running member, tell the cluster we
// are gone, and shut down.
import type { LeaveOptions } from '../cluster/cluster.js'
import type { BrokerNode } from './node.js'
import { handOver } from './sessions.js'

export async function leaveCluster (node: BrokerNode, opts: LeaveOptions): Promise<string> {
  if (!opts.kill) {
    await node.listeners.suspendAll()
    return 'Done! Use -k to teardown and migrate existing sessions!'
  }
  const peers = node.cluster.runningPeers()
  if (node.cluster.hasPeers() && peers.length === 0) throw new Error("Can't migrate queues because cluster is inconsistent, retry!")
  await node.listeners.suspendAll()
  await disconnectAll(node)
  await node.listeners.closeAll()
  const instances = await node.allInstances()
  const queues = instances.flatMap(i => i.persistentClients().map(clientId => ({ instance: i, clientId })))
  let moved = 0
  let messages = 0
  let last = Date.now()
  for (const [index, { instance, clientId }] of queues.entries()) {
    const session = await handOver(instance.persistence, undefined, clientId, false)
    if (peers.length > 0) await node.cluster.handTo(peers[index % peers.length], instance.mountpoint, clientId, session)
    moved++
    messages += session.messages?.length ?? 0
    if (Date.now() - last > 1000) {
      opts.progress(`Migrated ${moved}/${queues.length} queues and ${messages} messages`)
      last = Date.now()
    }
  }
  opts.progress(`Migrated ${moved}/${queues.length} queues and ${messages} messages`)
  await node.cluster.announceLeave()
  node.log.info({ queues: moved, messages }, 'left the cluster; shutting down')
  setImmediate(() => { void node.stop() })
  return 'Done'
}

/** MQTT 5: DISCONNECT 0x9C (use another server); the sessions move to the running members. */
const USE_ANOTHER_SERVER = 0x9c

async function disconnectAll (node: BrokerNode): Promise<void> {
  await Promise.all(node.sessions.all().map(async ({ client }) => {
    await new Promise<void>(resolve => { client.disconnect({ reasonCode: USE_ANOTHER_SERVER }, () => { resolve() }) })
  }))
}
