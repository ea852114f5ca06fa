// MQTT 5 properties through the node-to-node wire form and back, encoded and
// decoded exactly as a peer link does (the Cluster service's Link serializers).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vmqProto } from '../../../src/rpc/proto.js'
import { isExpired, propertiesFromWire, propertiesToWire, type MessageExtras } from '../../../src/cluster/properties.js'
import type { Publish } from '../../../src/rpc/generated/vmq/Publish.js'
import type { PeerMessage__Output } from '../../../src/rpc/generated/vmq/PeerMessage.js'

/** A routed publish as the receiving node reads it off the link. */
function overTheWire (publish: Publish): PeerMessage__Output['publishes'] {
  const link = vmqProto().Cluster.service.Link
  const bytes = link.requestSerialize({ id: 0, publishes: { publishes: [publish] } })
  return (link.requestDeserialize(bytes) as PeerMessage__Output).publishes
}

test('a message without properties sends none and reads back as none', () => {
  assert.equal(propertiesToWire({}, 0), undefined)
  const got = overTheWire({ topic: 't', properties: propertiesToWire({}, 0) })
  assert.equal(got?.publishes[0].properties, null)
  assert.deepEqual(propertiesFromWire(got?.publishes[0].properties, 0), {})
})

test('every property a subscriber sees survives the wire, user properties in order, repeated names included', () => {
  const now = 1_000_000
  const sent: MessageExtras = {
    properties: {
      userProperties: Object.assign(Object.create(null) as Record<string, string | string[]>, { a: '1', b: ['2', '3'], ['__proto__']: 'x' }),
      contentType: 'application/json',
      responseTopic: 'reply/to',
      correlationData: Buffer.from([0, 1, 2, 255]),
      payloadFormatIndicator: false,
      messageExpiryInterval: 60,
      topicAlias: 3,
      subscriptionIdentifier: 7
    },
    messageExpiry: now + 42_500
  }
  const got = overTheWire({ topic: 't', retain: true, properties: propertiesToWire(sent, now) })?.publishes[0]
  assert.equal(got?.retain, true)
  const later = now + 500
  const { properties, messageExpiry } = propertiesFromWire(got?.properties, later)
  assert.deepEqual(Object.entries(properties?.userProperties ?? {}), [['a', '1'], ['b', ['2', '3']], ['__proto__', 'x']])
  assert.deepEqual({ ...properties, userProperties: undefined }, {
    userProperties: undefined,
    contentType: 'application/json',
    responseTopic: 'reply/to',
    correlationData: Buffer.from([0, 1, 2, 255]),
    // an explicit 0 is not the same as no indicator
    payloadFormatIndicator: false,
    // the 42.5 s left, counted on from the receiver's clock, shown in whole seconds
    messageExpiryInterval: 43
  })
  assert.equal(messageExpiry, later + 42_500)
})

test('a property the sender left out stays out', () => {
  const got = overTheWire({ topic: 't', properties: propertiesToWire({ properties: { contentType: 'text/plain' } }, 0) })
  assert.deepEqual(propertiesFromWire(got?.publishes[0].properties, 0), { properties: { contentType: 'text/plain' } })
})

test('expiry: from the absolute expiry aedes keeps, else from the interval as received; expired at zero left', () => {
  assert.equal(propertiesToWire({ properties: { messageExpiryInterval: 5 } }, 100)?.expiryMs, 5000)
  assert.equal(propertiesToWire({ properties: { messageExpiryInterval: 5 }, messageExpiry: 2100 }, 100)?.expiryMs, 2000)
  assert.equal(propertiesToWire({ properties: { messageExpiryInterval: 5 }, messageExpiry: 50 }, 100)?.expiryMs, 0)
  assert.equal(isExpired({ properties: { messageExpiryInterval: 5 }, messageExpiry: 100 }, 100), true)
  assert.equal(isExpired({ properties: { messageExpiryInterval: 5 }, messageExpiry: 101 }, 100), false)
  assert.equal(isExpired({ properties: { contentType: 'x' } }, 100), false)
  assert.equal(isExpired({}, 100), false)
})
