import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { publishSize } from '../../../../src/broker/delivery/packet-size.js'
import type { OutPacket } from '../../../../src/broker/delivery/adapter.js'

test('the size of an MQTT 5 PUBLISH is what mqtt-packet encodes, across the length-byte boundaries', () => {
  for (const size of [0, 10, 100, 120, 130, 16370, 16390, 2_097_200]) {
    for (const qos of [0, 1, 2]) {
      for (const properties of [undefined, { subscriptionIdentifier: [1, 300], messageExpiryInterval: 60, contentType: 'text/plain' }]) {
        const packet: OutPacket = { topic: 'a/b', payload: Buffer.alloc(size), qos, retain: false, ...(properties !== undefined ? { properties } : {}) }
        const encoded = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: packet.payload, qos: qos as 0 | 1 | 2, retain: false, dup: false, ...(qos > 0 ? { messageId: 9 } : {}), ...(properties !== undefined ? { properties } : {}) }, { protocolVersion: 5 })
        assert.equal(publishSize(packet, qos), encoded.length, `payload ${size}, QoS ${qos}, properties ${properties !== undefined}`)
      }
    }
  }
})
