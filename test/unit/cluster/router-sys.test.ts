// aedes' own $SYS announcements (client ids, subscriptions) reach aedes only;
// the node's $SYS/<nodename>/ metrics reach the clients' subscriptions.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ClusterMq } from '../../../src/cluster/router.js'
import { LocalInterest } from '../../../src/cluster/interest.js'

function emitted (mq: ClusterMq, topic: string): Promise<void> {
  return new Promise(resolve => { mq.emit({ topic, payload: Buffer.from('x'), brokerId: 'n@h#1', qos: 0 } as never, () => { resolve() }) })
}

test('$SYS/<aedes id>/... goes to the listeners aedes registered before sealInternal, never to later (client) ones', async () => {
  const mq = new ClusterMq('n@h#1', new LocalInterest(() => {}), () => new Set(), () => {})
  const internal: string[] = []
  const clients: string[] = []
  mq.on('$SYS/+/new/clients', (m, done) => { internal.push(m.topic); done() })
  mq.sealInternal()
  mq.on('$SYS/#', (m, done) => { clients.push(m.topic); done() })
  mq.on('$SYS/+/new/clients', (m, done) => { clients.push(m.topic); done() })
  await emitted(mq, '$SYS/n@h#1/new/clients')
  await emitted(mq, '$SYS/n@h/socket/open')
  assert.deepEqual(internal, ['$SYS/n@h#1/new/clients'])
  assert.deepEqual(clients, ['$SYS/n@h/socket/open'])
})

test('a peer\'s filters match $SYS topics only when their first level is not a wildcard', async () => {
  const { RemoteInterest } = await import('../../../src/cluster/interest.js')
  const peer = new RemoteInterest()
  peer.add('#')
  peer.add('+/x')
  assert.equal(peer.matches('$SYS/n@h/socket/open'), false)
  assert.equal(peer.matches('a/b'), true)
  peer.add('$SYS/#')
  assert.equal(peer.matches('$SYS/n@h/socket/open'), true)
  peer.remove('$SYS/#')
  assert.equal(peer.matches('$SYS/n@h/socket/open'), false)
})
