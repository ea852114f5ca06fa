import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RemoteInterest } from '../../../src/cluster/interest.js'
import { assignShares, peerRoute, pickNode, type PeerView } from '../../../src/cluster/routing.js'

function peer (name: string, filters: string[], up = true): PeerView {
  const interest = new RemoteInterest()
  for (const f of filters) interest.add(f)
  return { name, up, interest }
}

test('a publish goes to a member whose filters match, to none whose filters do not, and to one chosen for a shared group', () => {
  assert.equal(peerRoute(peer('b', ['a/+']), 'a/x', 0, undefined, false), 'send')
  assert.equal(peerRoute(peer('b', ['a/+']), 'b/x', 1, undefined, false), 'skip')
  assert.equal(peerRoute(peer('b', []), 'b/x', 1, ['$share/g/b/#'], false), 'send')
  assert.equal(peerRoute({ name: 'c', up: true, interest: undefined }, 'a', 1, undefined, false), 'skip')
})

test('a member whose link is down: QoS 1/2 waits for the link unless allow_publish_during_netsplit; QoS 0 is not sent', () => {
  const down = peer('b', ['#'], false)
  assert.equal(peerRoute(down, 'a', 1, undefined, false), 'hold')
  assert.equal(peerRoute(down, 'a', 2, undefined, false), 'hold')
  assert.equal(peerRoute(down, 'a', 1, undefined, true), 'skip')
  assert.equal(peerRoute(down, 'a', 0, undefined, false), 'skip')
  assert.equal(peerRoute(peer('b', ['x'], false), 'a', 1, undefined, false), 'skip', 'nothing matches there')
})

test('shared groups: prefer_local keeps a group with local members here; otherwise one member with members gets it', () => {
  const peers = [peer('b', ['$share/g/t/#', '$share/h/t/#']), peer('c', ['$share/h/t/#'])]
  const first = (): number => 0
  const last = (): number => 0.99
  assert.deepEqual([...assignShares('t/1', ['$share/g/t/#'], 'a', peers, 'prefer_local', last)], [['a', ['$share/g/t/#']], ['c', ['$share/h/t/#']]])
  assert.deepEqual([...assignShares('t/1', ['$share/g/t/#'], 'a', peers, 'prefer_local', first)], [['a', ['$share/g/t/#']], ['b', ['$share/h/t/#']]])
  assert.deepEqual([...assignShares('x/1', ['$share/g/t/#'], 'a', peers, 'prefer_local')], [], 'no group matches')
})

test('shared groups: local_only delivers only groups with local members; random may pick another member; a member whose link is down is no candidate', () => {
  const peers = [peer('b', ['$share/g/t/#', '$share/h/t/#'])]
  assert.deepEqual([...assignShares('t/1', ['$share/g/t/#'], 'a', peers, 'local_only')], [['a', ['$share/g/t/#']]])
  assert.deepEqual([...assignShares('t/1', ['$share/g/t/#'], 'a', peers, 'random', () => 0.99)], [['b', ['$share/g/t/#', '$share/h/t/#']]])
  assert.deepEqual([...assignShares('t/1', [], 'a', [peer('b', ['$share/g/t/#'], false)], 'prefer_local')], [])
})

test('pickNode follows the policy', () => {
  assert.equal(pickNode(['a', 'b'], 'a', 'prefer_local', () => 0.99), 'a')
  assert.equal(pickNode(['b', 'c'], 'a', 'prefer_local', () => 0.99), 'c')
  assert.equal(pickNode(['b'], 'a', 'local_only'), undefined)
  assert.equal(pickNode(['a', 'b'], 'a', 'random', () => 0.5), 'b')
  assert.equal(pickNode(['a', 'b'], 'a', 'prefer_online_before_local', () => 0.99), 'a')
})
