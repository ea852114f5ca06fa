import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InflightWindow, type Entry } from '../../../../src/broker/delivery/inflight.js'

function entry (messageId: number): Entry {
  return { packet: { topic: 't', payload: Buffer.alloc(0), qos: 1, retain: false }, qos: 1, stored: false, messageId, dup: false, sentAt: 0, released: false }
}

test('resends due entries after the retry interval, oldest first, until acknowledged', async () => {
  const resent: number[] = []
  const window = new InflightWindow(() => 50, e => resent.push(e.messageId))
  window.add(entry(1), Date.now())
  window.add(entry(2), Date.now())
  assert.equal(window.size, 2)
  for (let i = 0; i < 100 && resent.length < 2; i++) await new Promise(resolve => setTimeout(resolve, 10))
  assert.deepEqual(resent.slice(0, 2), [1, 2])
  assert.equal(window.ack(1)?.messageId, 1)
  assert.equal(window.ack(1), undefined)
  window.released(2, Date.now())
  const before = resent.length
  for (let i = 0; i < 100 && resent.length === before; i++) await new Promise(resolve => setTimeout(resolve, 10))
  assert.equal(resent.at(-1), 2)
  assert.deepEqual(window.drain().map(e => [e.messageId, e.released]), [[2, true]])
  window.close()
  const after = resent.length
  await new Promise(resolve => setTimeout(resolve, 120))
  assert.equal(resent.length, after, 'nothing after close')
})
