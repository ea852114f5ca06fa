// GET /status.json: every member's NodeStatus, gathered by this node (its own
// first, then the members in `cluster show` order), in VerneMQ's shape
// [ { "<node>": { num_online, ..., mystatus: [ { "<member>": running } ], listeners: [...] } } ].
// A member that could not be asked is listed too, as { reachable: false, reason }.
import { askPeers } from '../../cluster/fanout.js'
import type { NodeStatus__Output } from '../../rpc/generated/vmq/NodeStatus.js'
import type { AdminHost } from '../admin/host.js'
import { statusEntry } from './node-status.js'

export type NodeEntry = Record<string, unknown>
export type StatusJson = [Record<string, NodeEntry>]

export async function clusterStatus (node: AdminHost): Promise<StatusJson> {
  const [own, peers] = await Promise.all([
    statusEntry(node),
    askPeers<Record<string, never>, NodeStatus__Output>(node.cluster, 'StatusEntry', {})
  ])
  const entries: Record<string, NodeEntry> = { [node.name]: toJson(own as NodeStatus__Output) }
  const answered = new Map(peers.answers.map(a => [a.member, a.reply]))
  const failed = new Map(peers.failed.map(f => [f.member, f.reason]))
  for (const { name } of node.cluster.show()) {
    if (name === node.name) continue
    const reply = answered.get(name)
    if (reply !== undefined) entries[name] = toJson(reply)
    else entries[name] = { reachable: false, reason: failed.get(name) ?? 'did not answer' }
  }
  return [entries]
}

function toJson (s: NodeStatus__Output): NodeEntry {
  return {
    reachable: true,
    num_online: s.numOnline,
    num_offline: s.numOffline,
    msg_in: s.msgIn,
    msg_out: s.msgOut,
    queue_in: s.queueIn,
    queue_out: s.queueOut,
    queue_drop: s.queueDrop,
    queue_unhandled: s.queueUnhandled,
    num_subscriptions: s.numSubscriptions,
    num_retained: s.numRetained,
    connects: s.connects,
    mystatus: [Object.fromEntries(s.members.map(m => [m.name, m.running]))],
    listeners: s.listeners.map(l => ({
      type: l.type,
      status: l.status,
      ip: l.ip,
      port: l.port,
      mountpoint: l.mountpoint,
      max_conns: l.maxConns === 'infinity' ? 'infinity' : Number(l.maxConns)
    })),
    version: s.version
  }
}
