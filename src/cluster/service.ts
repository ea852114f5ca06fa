// The Cluster gRPC service: what peers call on this node.
import type * as grpc from '@grpc/grpc-js'
import type { ClusterHandlers } from '../rpc/generated/vmq/Cluster.js'
import type { PeerMessage__Output } from '../rpc/generated/vmq/PeerMessage.js'
import type { Reply } from '../rpc/generated/vmq/Reply.js'
import type { Empty__Output } from '../rpc/generated/vmq/Empty.js'
import type { Retain } from '../rpc/generated/vmq/Retain.js'
import type { Publish } from '../rpc/generated/vmq/Publish.js'
import { unary } from '../rpc/server.js'
import { OncePer } from '../rpc/rate-limit.js'
import type { Cluster } from './cluster.js'
import type { ClusterHost } from './host.js'

export function clusterService (cluster: Cluster, host: ClusterHost): ClusterHandlers {
  // a refused node retries its link every second: its refusal is logged once a minute
  const strangers = new OncePer(60_000)
  return {
    Join: unary(async ({ node }) => ({ members: cluster.acceptJoin(node ?? {}) })),

    Link: (call: grpc.ServerDuplexStream<PeerMessage__Output, Reply>) => {
      let peer = ''
      // Messages are handled in order. Routed publishes are started in order
      // without waiting for the previous ones to be written to the clients (that
      // wait made one batch per round trip of the event loop); anything else
      // waits until every publish started before it is delivered: a takeover
      // must see every publish the peer routed here before it (they are queued
      // for the session it moves). A batch with an id (it holds QoS 1/2
      // messages) is answered once delivered and on disk: the peer keeps
      // them until then (journal, QoS 2 PUBREC, sent again after a break).
      let previous: Promise<unknown> = Promise.resolve()
      const delivering = new Set<Promise<unknown>>()
      call.on('data', (message: PeerMessage__Output) => {
        const publishes = routedPublishes(message)
        const work = previous.then(async (): Promise<Partial<Reply> | undefined> => {
          if (message.kind !== 'hello' && peer === '') throw refuse('a Link stream must start with hello')
          if (publishes !== undefined) {
            const done = host.deliverRemote(publishes)
            delivering.add(done)
            void done.finally(() => delivering.delete(done)).catch(() => {})
            if (message.id !== 0) answerWhenDone(message.id, done)
            return undefined
          }
          await Promise.allSettled([...delivering])
          return await handle(message)
        })
        previous = work.catch(() => {})
        work.then(
          reply => { if (message.id !== 0 && reply !== undefined) call.write({ id: message.id, ...reply }) },
          (err: Error) => { if (message.id !== 0) call.write({ id: message.id, error: err.message }) })
      })
      call.on('end', () => { cluster.peerTableLost(peer, call); call.end() })
      call.on('error', () => { cluster.peerTableLost(peer, call) })
      call.on('close', () => { cluster.peerTableLost(peer, call) })

      function answerWhenDone (id: number, done: Promise<void>): void {
        done.then(
          () => { call.write({ id }) },
          (err: Error) => { call.write({ id, error: err.message }) })
      }

      /** The stream is closed after the refusal is written: nothing else from it is handled. */
      function refuse (reason: string): Error {
        setImmediate(() => { call.end() })
        return new Error(reason)
      }

      async function handle (message: PeerMessage__Output): Promise<Partial<Reply>> {
        switch (message.kind) {
          case 'hello': {
            const hello = message.hello
            const from = hello?.from?.name ?? ''
            if (!cluster.isMember(from)) {
              if (strangers.hit(from) !== undefined) host.log.warn({ peer: from, address: call.getPeer() }, 'cluster link refused: the node is not a member; it must join with cluster join')
              throw refuse(`not_member: ${from} is not a member of this cluster; join it with cluster join`)
            }
            peer = from
            cluster.mergeMembers(hello?.members ?? [])
            if (hello?.from !== null && hello?.from !== undefined) cluster.learnFromPeer(peer, [hello.from])
            cluster.resetPeerFilters(peer)
            for (const set of hello?.filters ?? []) cluster.peerFilters(peer, set.mountpoint, set.filters, [], true)
            cluster.resetPeerSessions(peer)
            for (const info of hello?.sessions ?? []) cluster.peerSession(peer, info)
            cluster.peerTableReceived(peer, call)
            return {}
          }
          case 'members':
            cluster.mergeMembers(message.members?.members ?? [])
            cluster.learnFromPeer(peer, message.members?.members ?? [])
            return {}
          case 'filters': {
            const change = message.filters
            if (change !== null && change !== undefined) cluster.peerFilters(peer, change.mountpoint, change.added, change.removed)
            return {}
          }
          case 'retain':
            if (message.retain !== null && message.retain !== undefined) await cluster.acceptRetain(message.retain as Retain)
            return {}
          case 'takeover': {
            const t = message.takeover
            if (t === null || t === undefined) return {}
            return { handover: await host.handover(t.mountpoint, t.clientId, t.clean) }
          }
          case 'adopt': {
            const a = message.adopt
            if (a?.session !== null && a?.session !== undefined) await host.adopt(a.mountpoint, a.clientId, a.session)
            return {}
          }
          case 'session':
            if (message.session !== null && message.session !== undefined) cluster.peerSession(peer, message.session)
            return {}
          case 'leave':
            if (message.leave?.node !== undefined) cluster.removeMember(message.leave.node)
            return {}
          default:
            return {}
        }
      }
    },

    RetainedSnapshot: (call: grpc.ServerWritableStream<Empty__Output, Retain>) => {
      cluster.localRetained().then(
        messages => {
          for (const m of messages) call.write(m)
          call.end()
        },
        (err: Error) => { call.emit('error', { code: 13, details: err.message }) })
    }
  }
}

/** The publishes a peer routed here in `message`, or undefined for any other kind of message. */
function routedPublishes (message: PeerMessage__Output): Publish[] | undefined {
  if (message.kind === 'publish') return message.publish === null || message.publish === undefined ? [] : [message.publish as Publish]
  if (message.kind === 'publishes') return (message.publishes?.publishes ?? []) as Publish[]
  return undefined
}
