import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hasExpired, setRemainingExpiry } from '../../../../src/broker/delivery/message-expiry.js'
import type { OutPacket } from '../../../../src/broker/delivery/adapter.js'

function message (messageExpiry?: number, properties?: Record<string, unknown>): OutPacket {
  return { topic: 't', payload: Buffer.alloc(0), qos: 1, retain: false, messageExpiry, properties }
}

test('a message without an expiry never expires and keeps its properties', () => {
  const packet = message(undefined, { contentType: 'x' })
  const properties = packet.properties
  assert.equal(hasExpired(packet, 1e15), false)
  setRemainingExpiry(packet, 1e15)
  assert.equal(packet.properties, properties)
})

test('a message expires at its expiry time', () => {
  assert.equal(hasExpired(message(10_000), 9_999), false)
  assert.equal(hasExpired(message(10_000), 10_000), true)
})

test('the remaining interval is rounded up to whole seconds, at least 1, on a new properties object', () => {
  const shared = { messageExpiryInterval: 60, contentType: 'x' }
  const a = message(60_000, shared)
  setRemainingExpiry(a, 2_500)
  assert.deepEqual(a.properties, { messageExpiryInterval: 58, contentType: 'x' })
  assert.equal(shared.messageExpiryInterval, 60, 'the shared properties are left alone')
  const b = message(60_000, shared)
  setRemainingExpiry(b, 59_999)
  assert.equal(b.properties?.messageExpiryInterval, 1)
})
