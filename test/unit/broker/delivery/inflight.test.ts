import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InflightWindow, type Entry } from '../../../../src/broker/delivery/inflight.js'

function entry (messageId: number): Entry {
  return { packet: { topic: 't', payload: Buffer.alloc(0), qos: 1, retain: false }, qos: 1, stored: false, messageId, dup: false, sentAt: 0, released: false, direct: false }
}

test('resends due entries after the retry interval, oldest first, until acknowledged', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
  const resent: number[] = []
  const window = new InflightWindow(() => 50, e => resent.push(e.messageId))
  window.add(entry(1), Date.now())
  t.mock.timers.tick(10)
  window.add(entry(2), Date.now())
  assert.equal(window.size, 2)
  t.mock.timers.tick(39)
  assert.deepEqual(resent, [], 'nothing before the interval')
  t.mock.timers.tick(1)
  assert.deepEqual(resent, [1], 'the first one at 50 ms')
  t.mock.timers.tick(10)
  assert.deepEqual(resent, [1, 2], 'the second 50 ms after it was sent')

  assert.equal(window.ack(1)?.messageId, 1)
  assert.equal(window.ack(1), undefined)
  window.released(2, Date.now())
  t.mock.timers.tick(49)
  assert.deepEqual(resent, [1, 2], 'PUBREC restarts the interval of that entry')
  t.mock.timers.tick(1)
  assert.deepEqual(resent, [1, 2, 2])
  assert.deepEqual(window.drain().map(e => [e.messageId, e.released]), [[2, true]])

  window.add(entry(3), Date.now())
  window.close()
  t.mock.timers.tick(500)
  assert.deepEqual(resent, [1, 2, 2], 'nothing after close')
})

test('retry_interval changed at runtime applies from the next retry', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
  let retryMs = 100
  const resent: number[] = []
  const window = new InflightWindow(() => retryMs, e => resent.push(e.messageId))
  window.add(entry(1), Date.now())
  t.mock.timers.tick(100)
  assert.deepEqual(resent, [1])
  retryMs = 20
  t.mock.timers.tick(99)
  assert.deepEqual(resent, [1], 'the timer armed with the old interval still runs')
  t.mock.timers.tick(1)
  assert.deepEqual(resent, [1, 1])
  t.mock.timers.tick(20)
  assert.deepEqual(resent, [1, 1, 1], 'then every 20 ms')
  window.close()
})
