import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InflightWindow, type Entry } from '../../../../src/broker/delivery/inflight.js'
import { FakeClock } from './fakes.js'

function entry (messageId: number): Entry {
  return { packet: { topic: 't', payload: Buffer.alloc(0), qos: 1, retain: false }, qos: 1, stored: false, messageId, dup: false, sentAt: 0, released: false, direct: false }
}

test('resends due entries after the retry interval, oldest first, until acknowledged', () => {
  const clock = new FakeClock()
  const resent: number[] = []
  const window = new InflightWindow(() => 50, e => resent.push(e.messageId), clock)
  window.add(entry(1), clock.now())
  clock.advance(10)
  window.add(entry(2), clock.now())
  assert.equal(window.size, 2)
  clock.advance(39)
  assert.deepEqual(resent, [], 'nothing before the interval')
  clock.advance(1)
  assert.deepEqual(resent, [1], 'the first one at 50 ms')
  clock.advance(10)
  assert.deepEqual(resent, [1, 2], 'the second 50 ms after it was sent')

  assert.equal(window.ack(1)?.messageId, 1)
  assert.equal(window.ack(1), undefined)
  window.released(2, clock.now())
  clock.advance(49)
  assert.deepEqual(resent, [1, 2], 'PUBREC restarts the interval of that entry')
  clock.advance(1)
  assert.deepEqual(resent, [1, 2, 2])
  assert.deepEqual(window.drain().map(e => [e.messageId, e.released]), [[2, true]])

  window.add(entry(3), clock.now())
  window.close()
  assert.equal(clock.pending, 0, 'close cancels the timer')
  clock.advance(500)
  assert.deepEqual(resent, [1, 2, 2], 'nothing after close')
})

test('retry_interval changed at runtime applies from the next retry', () => {
  const clock = new FakeClock()
  let retryMs = 100
  const resent: number[] = []
  const window = new InflightWindow(() => retryMs, e => resent.push(e.messageId), clock)
  window.add(entry(1), clock.now())
  clock.advance(100)
  assert.deepEqual(resent, [1])
  retryMs = 20
  clock.advance(99)
  assert.deepEqual(resent, [1], 'the timer armed with the old interval still runs')
  clock.advance(1)
  assert.deepEqual(resent, [1, 1])
  clock.advance(20)
  assert.deepEqual(resent, [1, 1, 1], 'then every 20 ms')
  window.close()
})
