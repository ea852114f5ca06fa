import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OVERLAP, SubscriptionQos } from '../../../../src/broker/delivery/outgoing-qos.js'

test('highest matching QoS, capped at a filter equal to the topic; overlaps with QoS 0 flagged; misses not cached', () => {
  const cache = new SubscriptionQos()
  const subs: Record<string, { qos: number }> = { 'a/#': { qos: 1 }, 'a/+': { qos: 2 } }
  assert.equal(cache.lookup(subs, 'a/b'), 2)
  assert.equal(cache.lookup(subs, 'a/b/c'), 1)
  assert.equal(cache.lookup(subs, 'z'), -1)
  subs.z = { qos: 1 }
  assert.equal(cache.lookup(subs, 'z'), 1, 'a miss is looked up again')
  subs['a/b'] = { qos: 0 }
  assert.equal(cache.lookup(subs, 'a/b'), 2, 'cached until invalidated')
  cache.invalidate()
  assert.equal(cache.lookup(subs, 'a/b'), 0, 'capped at the exact filter')
  delete subs['a/b']
  subs['a/b/+'] = { qos: 0 }
  cache.invalidate()
  assert.equal(cache.lookup(subs, 'a/b/c'), 1 | OVERLAP)
})
