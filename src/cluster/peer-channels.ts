// One gRPC channel (one TCP connection) per member, shared by everything this
// node asks of it: the peer link, retained snapshots, forwarded admin calls,
// leave relays. grpc-js' Client.close() closes the channel given to it
// (channelOverride), so the clients made here are never closed by their
// users: the channel is closed here, when the member is gone or the node stops.
import * as grpc from '@grpc/grpc-js'
import { AdminClient } from '../rpc/client.js'
import { vmqProto } from '../rpc/proto.js'
import { channel, type ClientTls } from '../rpc/tls.js'
import type { AdminClient as GeneratedAdminClient } from '../rpc/generated/vmq/Admin.js'
import type { ClusterClient } from '../rpc/generated/vmq/Cluster.js'

/** Reconnect backoff of a channel to a member, ms: a member back after a restart is linked again within a second. */
export const MIN_BACKOFF_MS = 50
export const MAX_BACKOFF_MS = 1000

/** A member that stops answering (frozen, cable pulled) is found out within about 4 s, not at TCP's timeouts. */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 2000,
  'grpc.keepalive_timeout_ms': 2000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': MIN_BACKOFF_MS,
  'grpc.max_reconnect_backoff_ms': MAX_BACKOFF_MS
}

interface Peer {
  channel: grpc.Channel
  cluster?: ClusterClient
  admin?: GeneratedAdminClient
}

export class PeerChannels {
  private readonly peers = new Map<string, Peer>()

  constructor (private readonly tls: () => ClientTls | undefined, private readonly cookie: () => string) {}

  /** The Cluster service of the node at `address` (host:port). */
  cluster (address: string): ClusterClient {
    const peer = this.peer(address)
    peer.cluster ??= new (vmqProto().Cluster)(address, grpc.credentials.createInsecure(), { channelOverride: peer.channel })
    return peer.cluster
  }

  /** The Admin service of the node at `address`, generated client. */
  adminService (address: string): GeneratedAdminClient {
    const peer = this.peer(address)
    peer.admin ??= new (vmqProto().Admin)(address, grpc.credentials.createInsecure(), { channelOverride: peer.channel })
    return peer.admin
  }

  /** An admin client over the node's channel; its close() leaves the channel open. */
  admin (address: string, deadlineMs?: number): AdminClient {
    return new AdminClient(address, this.cookie(), deadlineMs, this.tls(), this.adminService(address))
  }

  /** The node at `address` is no longer a member: its connection is closed. */
  release (address: string): void {
    this.peers.get(address)?.channel.close()
    this.peers.delete(address)
  }

  close (): void {
    for (const address of [...this.peers.keys()]) this.release(address)
  }

  private peer (address: string): Peer {
    let peer = this.peers.get(address)
    if (peer === undefined) {
      const { credentials, options } = channel(address, this.tls(), CHANNEL_OPTIONS)
      this.peers.set(address, peer = { channel: new grpc.Channel(address, credentials, options) })
    }
    return peer
  }
}
