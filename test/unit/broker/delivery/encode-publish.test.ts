import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { encodePublish, publishBytes } from '../../../../src/broker/delivery/encode.js'

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

test('publishBytes gives each delivery its packet id and DUP, 3.1.1 and MQTT 5, small and large payloads, with and without properties', () => {
  const cases = [
    { version: 4, properties: undefined },
    { version: 5, properties: undefined },
    { version: 5, properties: { userProperties: { k: 'v' }, subscriptionIdentifier: [3, 4] } }
  ]
  for (const { version, properties } of cases) {
    for (const size of [10, 3000]) {
      const payload = Buffer.alloc(size, size % 251)
      const packet = { cmd: 'publish', topic: 'pb/t', payload, qos: 1, retain: false, ...(properties !== undefined ? { properties } : {}) }
      const bytes = Buffer.concat(publishBytes(packet, 1, version, 4242, true))
      const parser = mqttPacket.parser({ protocolVersion: version })
      const got: mqttPacket.Packet[] = []
      parser.on('packet', p => got.push(p))
      parser.on('error', err => { throw err })
      parser.parse(bytes)
      assert.equal(got.length, 1, `v${version} size ${size}`)
      const p = got[0] as mqttPacket.IPublishPacket
      assert.deepEqual([p.messageId, p.dup, p.qos, p.topic], [4242, true, 1, 'pb/t'])
      assert.ok((p.payload as Buffer).equals(payload))
      if (properties !== undefined) assert.deepEqual({ ...p.properties?.userProperties }, { k: 'v' })
    }
  }
})
