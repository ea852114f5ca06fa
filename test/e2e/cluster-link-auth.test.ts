import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as grpc from '@grpc/grpc-js'
import { vmqProto } from '../../src/rpc/proto.js'
import { collect, connect } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import type { PeerMessage } from '../../src/rpc/generated/vmq/PeerMessage.js'
import type { Reply__Output } from '../../src/rpc/generated/vmq/Reply.js'

interface LinkResult { replies: Reply__Output[], ended: boolean }

/** Opens a Cluster Link with the right cookie, sends `messages`, collects the replies until the node ends the stream (bounded). */
async function link (node: TestNode, messages: PeerMessage[]): Promise<LinkResult> {
  const client = new (vmqProto().Cluster)(node.adminAddress, grpc.credentials.createInsecure())
  const metadata = new grpc.Metadata()
  metadata.set('vmq-cookie', 'link-cookie')
  const stream = client.Link(metadata)
  const result: LinkResult = { replies: [], ended: false }
  stream.on('data', (r: Reply__Output) => { result.replies.push(r) })
  stream.on('end', () => { result.ended = true })
  stream.on('error', () => { result.ended = true })
  for (const m of messages) stream.write(m)
  try {
    await waitFor(() => result.ended, 5000, 'the node to end the Link stream')
  } finally {
    stream.cancel()
    client.close()
  }
  return result
}

describe('cluster Link streams come from members only', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'distributed_cookie = link-cookie'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('a hello from a node that never joined is refused, the stream closed, and its routed publish not delivered', async () => {
    const watcher = await connect(node.mqttUrl, { clientId: 'watcher' })
    await watcher.subscribeAsync('injected/#', { qos: 0 })
    const got = collect(watcher)
    const intruder = { name: 'intruder@127.0.0.1', address: '127.0.0.1:1' }
    const result = await link(node, [
      { id: 1, hello: { from: intruder, members: [intruder] } },
      { id: 0, publishes: { publishes: [{ mountpoint: '', topic: 'injected/x', payload: Buffer.from('evil'), qos: 0 }] } },
      { id: 2, members: { members: [intruder] } }
    ])
    // the node ends the stream after the refusal; what came after it is refused too, if its answer gets out
    assert.deepEqual([Number(result.replies[0].id), result.replies[0].error], [1, 'not_member: intruder@127.0.0.1 is not a member of this cluster; join it with cluster join'])
    assert.deepEqual(result.replies.slice(1).map(r => r.error), result.replies.slice(1).map(() => 'a Link stream must start with hello'))
    // a marker published after: once it arrives, the injected message would have too
    await watcher.publishAsync('injected/marker', 'm', { qos: 0 })
    await waitFor(() => got.some(m => m.topic === 'injected/marker'), 5000, 'the marker')
    assert.deepEqual(got.map(m => m.topic), ['injected/marker'])
    const shown = await node.admin(['cluster', 'show', '--format=json', '--cookie=link-cookie'])
    assert.deepEqual(JSON.parse(shown.stdout).table.map((r: { Node: string }) => r.Node), [node.nodename])
    assert.match(node.stdout, /\[warning\] cluster link refused: the node is not a member; it must join with cluster join peer=intruder@127\.0\.0\.1/)
    watcher.end(true)
  })
})
