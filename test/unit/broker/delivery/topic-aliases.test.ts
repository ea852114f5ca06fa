import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet'
import { OutgoingTopicAliases } from '../../../../src/broker/delivery/topic-aliases.js'

function publish (topic: string, payload: Buffer, qos: 0 | 1 | 2 = 0, properties?: Record<string, unknown>): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos, retain: false, dup: false, ...(qos > 0 ? { messageId: 7 } : {}), ...(properties !== undefined ? { properties } : {}) }, { protocolVersion: 5 })
}

function parseAll (bytes: Buffer): Packet[] {
  const got: Packet[] = []
  const parser = mqttPacket.parser({ protocolVersion: 5 })
  parser.on('packet', p => got.push(p))
  parser.on('error', err => { throw err })
  parser.parse(bytes)
  return got
}

/** Feeds the bytes in pieces of `piece` bytes, as mqtt-packet's writeToStream writes a packet. */
function feed (aliases: OutgoingTopicAliases, bytes: Buffer, piece: number): Buffer {
  const out: Buffer[] = []
  for (let at = 0; at < bytes.length; at += piece) out.push(...aliases.rewrite(bytes.subarray(at, at + piece)))
  return Buffer.concat(out)
}

test('first PUBLISH of a topic carries topic and alias, later ones an empty topic; other packets pass unchanged', () => {
  for (const piece of [1, 3, 1000]) {
    const aliases = new OutgoingTopicAliases(2, undefined)
    const big = Buffer.alloc(20000, 1)
    const input = Buffer.concat([
      publish('a/b', Buffer.from('one'), 1, { contentType: 'text/plain', userProperties: { k: 'v' } }),
      mqttPacket.generate({ cmd: 'pingresp' }, { protocolVersion: 5 }),
      publish('a/b', big, 0),
      publish('c', Buffer.from('two'), 2),
      publish('d', Buffer.from('full'), 0, { messageExpiryInterval: 9 }),
      publish('c', Buffer.from('three'), 0)
    ])
    const got = parseAll(feed(aliases, input, piece)) as IPublishPacket[]
    assert.deepEqual(got.map(p => [p.cmd, p.topic ?? undefined, p.properties?.topicAlias]), [
      ['publish', 'a/b', 1], ['pingresp', undefined, undefined], ['publish', '', 1], ['publish', 'c', 2], ['publish', 'd', undefined], ['publish', '', 2]
    ], `pieces of ${piece}`)
    assert.equal(got[0].payload.toString(), 'one')
    assert.equal(got[0].properties?.contentType, 'text/plain')
    assert.equal(got[0].messageId, 7)
    assert.deepEqual(got[2].payload, big)
    assert.equal(got[3].messageId, 7)
    assert.equal(got[4].properties?.messageExpiryInterval, 9)
  }
})

test('no alias is added where it would take a PUBLISH past the client\'s Maximum Packet Size', () => {
  const bytes = publish('t', Buffer.alloc(10), 0)
  const aliases = new OutgoingTopicAliases(5, bytes.length + 2)
  const got = parseAll(Buffer.concat(aliases.rewrite(Buffer.concat([bytes, bytes])))) as IPublishPacket[]
  assert.deepEqual(got.map(p => [p.topic, p.properties?.topicAlias]), [['t', undefined], ['t', undefined]])
})
