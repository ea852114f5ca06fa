import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PacketIds } from '../../../../src/broker/delivery/packet-ids.js'

test('hands out ids 1 to 65535 in sequence, skips those in use or reserved', () => {
  const ids = new PacketIds()
  assert.equal(ids.reserve(2), true)
  assert.equal(ids.reserve(2), false)
  assert.deepEqual([ids.take(), ids.take()], [1, 3])
  ids.release(1)
  const seen = new Set<number>()
  for (let i = 0; i < 65533; i++) seen.add(ids.take())
  assert.equal(seen.has(65535), true)
  assert.equal(seen.has(0), false)
  assert.equal(seen.has(1), true, 'released ids come back after wrapping')
  assert.throws(() => { for (let i = 0; i < 10; i++) ids.take() }, /no free packet identifier/)
})
