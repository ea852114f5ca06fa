import { test } from 'node:test'
import assert from 'node:assert/strict'
import { publishGate } from '../../../../src/broker/policy/publish.js'
import { acceptance } from '../../../../src/broker/policy/publish-acceptance.js'

test('PUBLISH gate: oversize first, then $ topics (MQTT 5 refused, 3.1.1 acknowledged for nobody)', () => {
  assert.equal(publishGate({ topic: 'a', payloadSize: 10, maxSize: 0, version: 4 }), 'go_on')
  assert.equal(publishGate({ topic: 'a', payloadSize: 11, maxSize: 10, version: 4 }), 'oversize')
  assert.equal(publishGate({ topic: 'a', payloadSize: 10, maxSize: 10, version: 4 }), 'go_on')
  assert.equal(publishGate({ topic: '$SYS/x', payloadSize: 11, maxSize: 10, version: 5 }), 'oversize')
  assert.equal(publishGate({ topic: '$SYS/x', payloadSize: 1, maxSize: 10, version: 5 }), 'refuse_dollar')
  assert.equal(publishGate({ topic: '$x', payloadSize: 1, maxSize: 10, version: 4 }), 'ack_dollar')
  assert.equal(publishGate({ topic: 'a/$x', payloadSize: 1, maxSize: 10, version: 4 }), 'go_on')
})

const alone = { qos: 1, retain: false, hasPeers: false, routesToPeers: false, persistentSubscribers: false }

test('acceptance: nothing to wait for without members, persistent subscribers or retain', () => {
  assert.deepEqual(acceptance(alone), { journal: false, routed: false, replicate: false, prequeue: true })
  assert.deepEqual(acceptance({ ...alone, retain: true }), { journal: false, routed: false, replicate: false, prequeue: true })
})

test('acceptance: QoS 1/2 for persistent subscribers is journaled; QoS 0 never', () => {
  assert.deepEqual(acceptance({ ...alone, persistentSubscribers: true }), { journal: true, routed: false, replicate: false, prequeue: true })
  assert.deepEqual(acceptance({ ...alone, qos: 2, persistentSubscribers: true }), { journal: true, routed: false, replicate: false, prequeue: true })
  assert.deepEqual(acceptance({ ...alone, qos: 0, persistentSubscribers: true }), { journal: false, routed: false, replicate: false, prequeue: true })
})

test('acceptance: QoS 1 routed to members is journaled and held; a retained message is replicated to members', () => {
  assert.deepEqual(acceptance({ ...alone, hasPeers: true, routesToPeers: true }), { journal: true, routed: true, replicate: false, prequeue: false })
  assert.deepEqual(acceptance({ ...alone, qos: 2, hasPeers: true, routesToPeers: true }), { journal: false, routed: false, replicate: false, prequeue: false })
  assert.deepEqual(acceptance({ ...alone, qos: 0, retain: true, hasPeers: true }), { journal: false, routed: false, replicate: true, prequeue: false })
  // with members, a message for local persistent sessions is journaled, never written as queued
  assert.deepEqual(acceptance({ ...alone, hasPeers: true, persistentSubscribers: true }), { journal: true, routed: false, replicate: false, prequeue: false })
})
