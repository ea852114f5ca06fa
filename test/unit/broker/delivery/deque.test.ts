import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Deque } from '../../../../src/broker/delivery/deque.js'

test('push, shift, unshift and pop keep order across growth and wrap-around', () => {
  const d = new Deque<number>()
  for (let i = 0; i < 10; i++) d.push(i)
  assert.equal(d.shift(), 0)
  assert.equal(d.shift(), 1)
  for (let i = 10; i < 40; i++) d.push(i)
  d.unshift(1)
  assert.equal(d.pop(), 39)
  assert.equal(d.length, 38)
  assert.deepEqual([...d], Array.from({ length: 38 }, (_, i) => i + 1))
  assert.equal(d.peek(), 1)
  assert.deepEqual(d.drain().slice(0, 3), [1, 2, 3])
  assert.equal(d.length, 0)
  assert.equal(d.shift(), undefined)
  assert.equal(d.pop(), undefined)
})
