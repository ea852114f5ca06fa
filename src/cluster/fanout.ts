// Admin calls a node makes on the other members for answers that cover the
// cluster (session show, session disconnect, ...): the same Admin RPC with
// `localOnly` set, on every running member at once.
import { RpcFailure, type AdminClient } from '../rpc/client.js'
import type { Cluster } from './cluster.js'

/** How long a member may take to answer a fanned-out admin call, ms. */
export const FANOUT_DEADLINE_MS = 3000

export interface FanoutResult<Res> {
  answers: Array<{ member: string, reply: Res }>
  /** members that answered NOT_FOUND */
  notFound: string[]
  /** one line per member that could not be asked or did not answer */
  warnings: string[]
  /** the same members, by name, with why */
  failed: Array<{ member: string, reason: string }>
}

export async function askPeers<Req, Res> (cluster: Cluster, method: Parameters<AdminClient['call']>[0], request: Req): Promise<FanoutResult<Res>> {
  const result: FanoutResult<Res> = { answers: [], notFound: [], warnings: [], failed: [] }
  const fail = (member: string, warning: string, reason: string): void => {
    result.warnings.push(warning)
    result.failed.push({ member, reason })
  }
  const peers = cluster.peers()
  for (const peer of peers) if (!peer.running) fail(peer.name, `node ${peer.name} is not running (${peer.reason})`, `not running (${peer.reason})`)
  await Promise.all(peers.filter(p => p.running).map(async peer => {
    const client = cluster.adminClient(peer.address, FANOUT_DEADLINE_MS)
    try {
      result.answers.push({ member: peer.name, reply: await client.call<Req, Res>(method, request) })
    } catch (err) {
      if (err instanceof RpcFailure && err.kind === 'not_found') result.notFound.push(peer.name)
      else fail(peer.name, `node ${peer.name} did not answer (${(err as Error).message})`, `did not answer (${(err as Error).message})`)
    }
  }))
  return result
}
