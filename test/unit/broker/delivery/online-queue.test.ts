import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OnlineQueue } from '../../../../src/broker/delivery/online-queue.js'

test('fifo refuses the new item when full; lifo drops the oldest; -1 is unlimited; 0 holds nothing', () => {
  const fifo = new OnlineQueue<string>()
  for (const x of ['a', 'b']) assert.equal(fifo.offer(x, 2, false), undefined)
  assert.equal(fifo.offer('c', 2, false), 'c')
  assert.deepEqual([...fifo.items], ['a', 'b'])

  const lifo = new OnlineQueue<string>()
  for (const x of ['a', 'b']) lifo.offer(x, 2, true)
  assert.equal(lifo.offer('c', 2, true), 'a')
  assert.deepEqual([...lifo.items], ['b', 'c'])

  const unlimited = new OnlineQueue<number>()
  for (let i = 0; i < 5000; i++) assert.equal(unlimited.offer(i, -1, false), undefined)
  assert.equal(unlimited.length, 5000)

  assert.equal(new OnlineQueue<string>().offer('x', 0, true), 'x')
})

test('trim cuts the newest (fifo) or the oldest (lifo) beyond the limit', () => {
  const q = new OnlineQueue<number>()
  for (let i = 0; i < 6; i++) q.items.push(i)
  assert.deepEqual(q.trim(4, false), [5, 4])
  assert.deepEqual(q.trim(2, true), [0, 1])
  assert.deepEqual([...q.items], [2, 3])
  assert.deepEqual(q.trim(-1, true), [])
})
