import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { encodePublish } from '../../../../src/broker/delivery/adapter.js'

test('encodePublish writes the bytes mqtt-packet generates, for every QoS, retain flag and length size', () => {
  for (const size of [0, 10, 100, 200, 16_380, 20_000, 2_100_000]) {
    const payload = Buffer.alloc(size, 'p')
    for (const qos of [0, 1, 2] as const) {
      for (const retain of [false, true]) {
        for (const topic of ['a', 'sensor/ünïcode/€', 'x'.repeat(300)]) {
          const expected = mqttPacket.generate({ cmd: 'publish', topic, payload, qos, retain, dup: false, ...(qos > 0 ? { messageId: 1 } : {}) })
          assert.ok(encodePublish(topic, payload, qos, retain).equals(expected), `size ${size}, QoS ${qos}, retain ${String(retain)}, topic ${topic.slice(0, 20)}`)
        }
      }
    }
  }
})

test('encodePublish with v5 writes the bytes mqtt-packet generates for an MQTT 5 PUBLISH without properties', () => {
  for (const size of [0, 100, 20_000]) {
    const payload = Buffer.alloc(size, 'q')
    for (const qos of [0, 1, 2] as const) {
      for (const retain of [false, true]) {
        const expected = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload, qos, retain, dup: false, ...(qos > 0 ? { messageId: 1 } : {}) }, { protocolVersion: 5 })
        assert.ok(encodePublish('a/b', payload, qos, retain, true).equals(expected), `size ${size}, QoS ${qos}, retain ${String(retain)}`)
      }
    }
  }
})
