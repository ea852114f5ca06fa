import { test } from 'node:test'
import assert from 'node:assert/strict'
import { addSubscriptionIds, SubscriptionIds } from '../../../../src/broker/delivery/subscription-ids.js'
import type { OutPacket } from '../../../../src/broker/delivery/adapter.js'

function message (properties?: Record<string, unknown>): OutPacket {
  return { topic: 'a/b', payload: Buffer.alloc(0), qos: 1, retain: false, properties }
}

test('the identifiers of every matching subscription, shared ones left out, cached until invalidated', () => {
  const subs: Record<string, { qos: number, si?: number }> = { 'a/+': { qos: 0, si: 1 }, 'a/#': { qos: 1, si: 2 }, 'b/#': { qos: 1, si: 3 }, 'a/b': { qos: 1 }, '$share/g/a/b': { qos: 1, si: 4 } }
  const ids = new SubscriptionIds()
  assert.deepEqual(ids.lookup(subs, 'a/b'), [1, 2])
  assert.deepEqual(ids.lookup(subs, 'c'), [])
  subs['c'] = { qos: 0, si: 5 }
  assert.deepEqual(ids.lookup(subs, 'c'), [5], 'a miss is not cached')
  subs['a/b'] = { qos: 0, si: 6 }
  assert.deepEqual(ids.lookup(subs, 'a/b'), [1, 2], 'cached')
  ids.invalidate()
  assert.deepEqual(ids.lookup(subs, 'a/b'), [1, 2, 6])
})

test('no identifiers at all: nothing looked up', () => {
  const ids = new SubscriptionIds()
  const subs: Record<string, { qos: number, si?: number }> = { '#': { qos: 0 } }
  assert.deepEqual(ids.lookup(subs, 'x'), [])
})

test('adds the missing identifiers on a new properties object; one identifier stays a number', () => {
  const shared = Object.freeze({ subscriptionIdentifier: 2 })
  const a = message(shared)
  addSubscriptionIds(a, [1, 2])
  assert.deepEqual(a.properties, { subscriptionIdentifier: [2, 1] })
  const b = message(shared)
  addSubscriptionIds(b, [2])
  assert.equal(b.properties, shared, 'nothing to add: left alone')
  const c = message({ contentType: 't' })
  addSubscriptionIds(c, [7])
  assert.deepEqual(c.properties, { contentType: 't', subscriptionIdentifier: 7 })
})
