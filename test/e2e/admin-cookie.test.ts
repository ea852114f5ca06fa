import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as grpc from '@grpc/grpc-js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

/** A raw unary call to the node's Admin service with `body` as the request bytes. */
async function rawCall (address: string, cookie: string, body: Buffer): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure())
  const metadata = new grpc.Metadata()
  metadata.set('vmq-cookie', cookie)
  try {
    return await new Promise(resolve => {
      client.makeUnaryRequest('/vmq.Admin/ClusterShow', (b: Buffer) => b, (b: Buffer) => b, body, metadata, { deadline: Date.now() + 5000 },
        err => { resolve(err) })
    })
  } finally {
    client.close()
  }
}

const refusalLines = (node: TestNode): string[] => node.stdout.split('\n').filter(l => l.includes('gRPC call refused'))

describe('the distributed_cookie of the admin and cluster channel', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'distributed_cookie = s3cret-cookie'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('a call with the wrong cookie is refused before its body is read: a 3 MB body that is not protobuf gets UNAUTHENTICATED', async () => {
    const err = await rawCall(node.adminAddress, 'wrong', Buffer.alloc(3 * 1024 * 1024, 0xff))
    assert.equal(err?.code, grpc.status.UNAUTHENTICATED)
    assert.equal(err?.details, 'wrong distributed_cookie')
  })

  it('the same body with the right cookie reaches deserialization (so the test above shows an early refusal)', async () => {
    const err = await rawCall(node.adminAddress, 's3cret-cookie', Buffer.alloc(16, 0xff))
    assert.equal(err?.code, grpc.status.INTERNAL)
  })

  it('an empty cookie is refused like a wrong one; the CLI says so and exits 2', async () => {
    const r = await node.admin(['cluster', 'show', '--cookie='])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /refused the call: wrong distributed_cookie/)
  })

  it('refused calls are logged with the caller address, once a minute per address', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await rawCall(node.adminAddress, 'nope', Buffer.alloc(0)))?.code, grpc.status.UNAUTHENTICATED)
    await waitFor(() => refusalLines(node).length > 0, 5000, 'the refusal log line')
    const lines = refusalLines(node)
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0], /\[warning\] gRPC call refused: wrong or missing distributed_cookie peer=127\.0\.0\.1 method=\/vmq\.Admin\//)
    assert.doesNotMatch(node.stdout, /nope|s3cret-cookie/)
  })

  it('no warning about the default cookie when one is set', () => {
    assert.doesNotMatch(node.stdout, /distributed_cookie is the default/)
  })
})

describe('the default cookie', () => {
  it('a node running with distributed_cookie = vmq warns at start, naming the clustering listener', async () => {
    const node = await startNode({ conf: OPEN_ACCESS })
    try {
      assert.match(node.stdout, new RegExp(`\\[warning\\] distributed_cookie is the default "vmq": whoever reaches 127\\.0\\.0\\.1:${node.adminPort} can run admin commands and join the cluster; set your own`))
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
