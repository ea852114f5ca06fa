import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OnlineQueue } from '../../../../src/broker/delivery/online-queue.js'

/** items are strings; an item's size is its length */
const strings = (): OnlineQueue<string> => new OnlineQueue<string>(s => s.length)
const counted = (count: number): { count: number, bytes: number } => ({ count, bytes: Infinity })

test('fifo refuses the new item when full; lifo drops the oldest; -1 is unlimited; 0 holds nothing', () => {
  const fifo = strings()
  for (const x of ['a', 'b']) assert.deepEqual(fifo.offer(x, counted(2), false), [])
  assert.deepEqual(fifo.offer('c', counted(2), false), ['c'])
  assert.deepEqual([...fifo], ['a', 'b'])

  const lifo = strings()
  for (const x of ['a', 'b']) lifo.offer(x, counted(2), true)
  assert.deepEqual(lifo.offer('c', counted(2), true), ['a'])
  assert.deepEqual([...lifo], ['b', 'c'])

  const unlimited = new OnlineQueue<number>(() => 1)
  for (let i = 0; i < 5000; i++) assert.deepEqual(unlimited.offer(i, counted(-1), false), [])
  assert.equal(unlimited.length, 5000)

  assert.deepEqual(strings().offer('x', counted(0), true), ['x'])
})

test('bytes: fifo refuses what would pass the limit; lifo drops as many of the oldest as make room, or the new item when it cannot fit alone', () => {
  const limits = { count: -1, bytes: 10 }
  const fifo = strings()
  for (const x of ['aaaa', 'bbbb']) assert.deepEqual(fifo.offer(x, limits, false), [])
  assert.deepEqual(fifo.offer('ccc', limits, false), ['ccc'], '11 bytes would pass 10')
  assert.deepEqual(fifo.offer('dd', limits, false), [], 'exactly 10 fits')
  assert.equal(fifo.bytes, 10)
  assert.deepEqual([...fifo], ['aaaa', 'bbbb', 'dd'])

  const lifo = strings()
  for (const x of ['aaaa', 'bb', 'cccc']) lifo.offer(x, limits, true)
  assert.deepEqual(lifo.offer('ddddd', limits, true), ['aaaa', 'bb'])
  assert.deepEqual([...lifo], ['cccc', 'ddddd'])
  assert.equal(lifo.bytes, 9)
  assert.deepEqual(lifo.offer('x'.repeat(11), limits, true), ['x'.repeat(11)], 'too large even alone: the others stay')
  assert.deepEqual([...lifo], ['cccc', 'ddddd'])

  const both = strings()
  for (const x of ['a', 'b']) both.offer(x, { count: 2, bytes: 100 }, false)
  assert.deepEqual(both.offer('c', { count: 2, bytes: 100 }, false), ['c'], 'the count still applies')
})

test('the byte count follows every way in and out', () => {
  const q = strings()
  q.push('aaa')
  q.push('bb')
  assert.equal(q.bytes, 5)
  assert.equal(q.shift(), 'aaa')
  assert.equal(q.bytes, 2)
  assert.deepEqual(q.drain(), ['bb'])
  assert.equal(q.bytes, 0)
  assert.equal(q.shift(), undefined)
  assert.equal(q.bytes, 0)
})

test('trim cuts the newest (fifo) or the oldest (lifo) beyond the count and the bytes', () => {
  const q = new OnlineQueue<number>(() => 1)
  for (let i = 0; i < 6; i++) q.push(i)
  assert.deepEqual(q.trim(counted(4), false), [5, 4])
  assert.deepEqual(q.trim(counted(2), true), [0, 1])
  assert.deepEqual([...q], [2, 3])
  assert.deepEqual(q.trim(counted(-1), true), [])

  const b = strings()
  for (const x of ['aaa', 'bbb', 'ccc', 'ddd']) b.push(x)
  assert.deepEqual(b.trim({ count: -1, bytes: 7 }, false), ['ddd', 'ccc'])
  assert.deepEqual(b.trim({ count: -1, bytes: 3 }, true), ['aaa'])
  assert.deepEqual([...b], ['bbb'])
  assert.equal(b.bytes, 3)
})
