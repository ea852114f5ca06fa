import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PublishRate } from '../../../../src/broker/policy/publish-rate.js'

test('max_message_rate: the first N PUBLISHes of a second pass at once, each later one waits for the next free slot', () => {
  const rate = new PublishRate()
  // 7 PUBLISHes read at once at t = 1000 under a rate of 3 per second
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => rate.delay(3, 1000)), [0, 0, 0, 1000, 1000, 1000, 2000])
  // one arriving while the last slot is still ahead queues behind it
  assert.equal(rate.delay(3, 1500), 1500)
  // after a quiet second a new window starts
  assert.equal(rate.delay(3, 5000), 0)
})

test('0 is unlimited, and a change of the rate applies to the next PUBLISH', () => {
  const rate = new PublishRate()
  assert.deepEqual([0, 0, 0].map(() => rate.delay(0, 10)), [0, 0, 0])
  assert.deepEqual([1, 2].map(() => rate.delay(1, 20)), [0, 1000])
  assert.equal(rate.delay(0, 30), 0)
})

test('a throttle pauses the PUBLISHes arriving before it ends; a shorter later one does not shorten it', () => {
  const rate = new PublishRate()
  assert.equal(rate.pausedFor(100), 0)
  rate.pause(1000, 100)
  assert.equal(rate.pausedFor(600), 500)
  rate.pause(100, 700)
  assert.equal(rate.pausedFor(700), 400)
  assert.equal(rate.pausedFor(1100), 0)
})
