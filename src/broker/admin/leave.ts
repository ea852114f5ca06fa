// `cluster leave` for this node. Without -k: stop accepting MQTT connections.
// With -k: disconnect every client, move each persistent session (its
// subscriptions and queued messages) to a running member, tell the cluster we
// are gone, and shut down.
import type { LeaveOptions } from '../../cluster/host.js'
import type { PeerLink } from '../../cluster/peer-link.js'
import type { AdminHost } from './host.js'
import { referTo } from '../server-reference.js'
import { handOver } from '../sessions.js'

/** mountpoint + NUL + client id -> the member its session moves to */
type Homes = Map<string, PeerLink>

export async function leaveCluster (node: AdminHost, opts: LeaveOptions): Promise<string> {
  if (!opts.kill) {
    await node.listeners.suspendAll()
    return 'Done! Use -k to teardown and migrate existing sessions!'
  }
  const peers = node.cluster.runningPeers()
  if (node.cluster.hasPeers() && peers.length === 0) throw new Error("Can't migrate queues because cluster is inconsistent, retry!")
  await node.listeners.suspendAll()
  const instances = await node.allInstances()
  // decided before the clients are told where to go (DISCONNECT Server Reference)
  const homes: Homes = new Map()
  for (const [index, { instance, clientId }] of persistentQueues(instances).entries()) {
    if (peers.length > 0) homes.set(queueKey(instance.mountpoint, clientId), peers[index % peers.length])
  }
  await disconnectAll(node, homes, peers)
  await node.listeners.closeAll()
  const queues = persistentQueues(instances)
  let moved = 0
  let messages = 0
  let last = Date.now()
  for (const [index, { instance, clientId }] of queues.entries()) {
    const session = await handOver(instance.persistence, undefined, clientId, false)
    const home = homes.get(queueKey(instance.mountpoint, clientId)) ?? peers[index % peers.length]
    if (home !== undefined) await node.cluster.handTo(home, instance.mountpoint, clientId, session)
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

type Instances = Awaited<ReturnType<AdminHost['allInstances']>>

function persistentQueues (instances: Instances): Array<{ instance: Instances[number], clientId: string }> {
  return instances.flatMap(instance => instance.persistentClients().map(clientId => ({ instance, clientId })))
}

function queueKey (mountpoint: string, clientId: string): string {
  return mountpoint + '\u0000' + clientId
}

/** MQTT 5: DISCONNECT 0x9C (use another server); the sessions move to the running members. */
const USE_ANOTHER_SERVER = 0x9c

/**
 * Each client is told (Server Reference) where its session goes; one whose
 * session does not move (clean, or without subscriptions) is sent to the
 * running members in turn.
 */
async function disconnectAll (node: AdminHost, homes: Homes, peers: PeerLink[]): Promise<void> {
  let next = 0
  await Promise.all(node.sessions.all().map(async ({ mountpoint, client }) => {
    const home = homes.get(queueKey(mountpoint, client.id)) ?? peers[next++ % peers.length]
    const properties = home === undefined ? undefined : referTo(client, USE_ANOTHER_SERVER, node.cluster.endpointsOf(home.name))
    await new Promise<void>(resolve => { client.disconnect({ reasonCode: USE_ANOTHER_SERVER, properties }, () => { resolve() }) })
  }))
}
