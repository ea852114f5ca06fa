import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeQueuedMeta, decodeValue, encodeQueued, withMessageId } from '../../../../src/broker/store/codec.js'

test('withMessageId gives a queued copy its packet id in the header and the decoded packet, leaving the original as it was', () => {
  const queued = encodeQueued({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, messageId: undefined, brokerId: 'n1', brokerCounter: 7 })
  const sent = withMessageId(queued, 513)
  assert.deepEqual(decodeQueuedMeta(sent), { messageId: 513, brokerId: 'n1', brokerCounter: 7 })
  const packet = decodeValue(sent)
  assert.equal(packet.messageId, 513)
  assert.equal(packet.topic, 'a/b')
  assert.deepEqual(packet.payload, Buffer.from('x'))
  assert.equal(decodeValue(queued).messageId, undefined)
  assert.ok(Object.hasOwn(decodeValue(queued), 'messageId'), 'an unsent copy keeps messageId: undefined')
})
