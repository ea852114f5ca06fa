import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ClientQueue } from '../../../../src/broker/store/outgoing-index.js'

test('packet ids reused while older ones are in flight resolve oldest first', () => {
  const queue = new ClientQueue()
  const first = queue.append(1, 'b', 1, 7)
  const second = queue.append(2, 'b', 2, 7)
  assert.equal(queue.findByMessageId(7), first)
  queue.remove(first)
  assert.equal(queue.findByMessageId(7), second)
  queue.setMessageId(second, 8)
  assert.equal(queue.findByMessageId(7), undefined)
  assert.equal(queue.findByMessageId(8), second)
})

test('copies of one message (overlapping subscriptions) are told apart by whether they were sent', () => {
  const queue = new ClientQueue()
  const a = queue.append(1, 'b', 5, undefined)
  const b = queue.append(2, 'b', 5, undefined)
  assert.equal(queue.findByOrigin('b', 5), a)
  queue.setMessageId(a, 1)
  assert.equal(queue.findByOrigin('b', 5), b)
  assert.equal(queue.findByOrigin('b', 5, 1), a)
  assert.equal(queue.findUnsentByOrigin('b', 5), b)
  queue.remove(b)
  assert.equal(queue.findUnsentByOrigin('b', 5), undefined)
  assert.equal(queue.firstUnsent(), undefined)
  queue.forgetOrigin(a)
  assert.equal(queue.findByOrigin('b', 5), undefined)
  assert.equal(queue.findByMessageId(1), a)
  assert.equal(queue.size, 1)
})
