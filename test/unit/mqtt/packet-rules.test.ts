import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { badUtf8, brokenRule, isShortestVarint, packetTypeRule, parserError, remainingLengthRule, topicAliasRule } from '../../../src/mqtt/packet-rules.js'
import { MALFORMED_PACKET, PROTOCOL_ERROR } from '../../../src/mqtt/property-scan.js'

const codeOf = (packet: Parameters<typeof brokenRule>[0]): number | undefined => brokenRule(packet)?.reasonCode

describe('brokenRule', () => {
  it('accepts ordinary packets', () => {
    assert.equal(codeOf({ cmd: 'connect', protocolVersion: 4, username: 'u', password: Buffer.from('p'), will: { qos: 2 } }), undefined)
    assert.equal(codeOf({ cmd: 'connect', protocolVersion: 5, password: Buffer.from('p') }), undefined)
    assert.equal(codeOf({ cmd: 'publish', qos: 0, dup: false }), undefined)
    assert.equal(codeOf({ cmd: 'publish', qos: 1, dup: true, messageId: 1 }), undefined)
    assert.equal(codeOf({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', nl: true }, { topic: '$share/g/a', nl: false }] }), undefined)
    assert.equal(codeOf({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['a'] }), undefined)
    assert.equal(codeOf({ cmd: 'pingreq' }), undefined)
  })

  it('refuses packet id 0 wherever a packet id is carried (MQTT-2.2.1-3)', () => {
    for (const cmd of ['subscribe', 'unsubscribe', 'puback', 'pubrec', 'pubrel', 'pubcomp']) {
      assert.equal(codeOf({ cmd, messageId: 0, subscriptions: [{ topic: 'a' }], unsubscriptions: ['a'] }), PROTOCOL_ERROR, cmd)
    }
    assert.equal(codeOf({ cmd: 'publish', qos: 2, messageId: 0 }), PROTOCOL_ERROR)
  })

  it('names each broken rule with its code', () => {
    assert.deepEqual(brokenRule({ cmd: 'publish', qos: 0, dup: true }), { reasonCode: MALFORMED_PACKET, reason: 'a QoS 0 PUBLISH with DUP set (MQTT-3.3.1-2)' })
    assert.equal(codeOf({ cmd: 'publish', qos: 0, properties: { subscriptionIdentifier: 3 } }), PROTOCOL_ERROR)
    assert.equal(codeOf({ cmd: 'connect', protocolVersion: 5, will: { qos: 3 } }), MALFORMED_PACKET)
    assert.equal(codeOf({ cmd: 'connect', protocolVersion: 4, password: Buffer.from('p') }), PROTOCOL_ERROR)
    assert.equal(codeOf({ cmd: 'subscribe', messageId: 1, subscriptions: [] }), PROTOCOL_ERROR)
    assert.equal(codeOf({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/a', nl: true }] }), PROTOCOL_ERROR)
    assert.equal(codeOf({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: [] }), PROTOCOL_ERROR)
  })
})

describe('badUtf8', () => {
  it('looks at the bytes only when the decoded string holds U+FFFD', () => {
    let read = 0
    const bytesOf = (b: number[]) => () => { read++; return Buffer.from(b) }
    assert.equal(badUtf8('abc', bytesOf([0x61, 0x62, 0x63])), false)
    assert.equal(read, 0)
    assert.equal(badUtf8('a\u0000', bytesOf([0x61, 0])), true)
    assert.equal(badUtf8('a\uFFFD', bytesOf([0x61, 0xef, 0xbf, 0xbd])), false, 'a validly encoded U+FFFD')
    assert.equal(badUtf8('a\uFFFD', bytesOf([0x61, 0xff])), true)
    assert.equal(badUtf8('\uFFFD', bytesOf([0xed, 0xa0, 0x80])), true, 'an encoded surrogate')
    assert.equal(read, 3)
  })
})

describe('parserError', () => {
  it('makes subscribe QoS 3 and Retain Handling 3 Protocol Errors, everything else Malformed', () => {
    assert.equal(parserError('Invalid subscribe QoS, must be <= 2').reasonCode, PROTOCOL_ERROR)
    assert.equal(parserError('Invalid retain handling, must be <= 2').reasonCode, PROTOCOL_ERROR)
    assert.equal(parserError('Packet must not have both QoS bits set to 1').reasonCode, MALFORMED_PACKET)
  })
})

describe('rules the fuzzer found the parser lax about', () => {
  it('packet types a client never sends, from the first byte', () => {
    assert.equal(packetTypeRule('reserved', undefined)?.reasonCode, MALFORMED_PACKET)
    assert.equal(packetTypeRule('auth', 4)?.reasonCode, MALFORMED_PACKET)
    assert.equal(packetTypeRule('auth', 5), undefined)
    assert.equal(packetTypeRule('auth', undefined), undefined)
    for (const cmd of ['connack', 'suback', 'unsuback', 'pingresp']) assert.equal(packetTypeRule(cmd, 4)?.reasonCode, PROTOCOL_ERROR, cmd)
    for (const cmd of ['connect', 'publish', 'puback', 'subscribe', 'pingreq', 'disconnect', null]) assert.equal(packetTypeRule(cmd, 5), undefined, String(cmd))
  })

  it('fields that do not fill the remaining length (a PUBLISH payload takes the rest)', () => {
    assert.equal(remainingLengthRule('puback', 2, 2), undefined)
    assert.equal(remainingLengthRule('puback', 2, 1)?.reasonCode, MALFORMED_PACKET)
    assert.equal(remainingLengthRule('pingreq', 0, 2)?.reason, 'a PINGREQ whose fields stop short of its remaining length (0 of 2 bytes)')
    assert.equal(remainingLengthRule('publish', 5, 9), undefined)
    assert.equal(remainingLengthRule('publish', 9, 5)?.reasonCode, MALFORMED_PACKET)
  })

  it('variable byte integers in the fewest bytes (MQTT-1.5.5-1)', () => {
    assert.equal(isShortestVarint(0, 1), true)
    assert.equal(isShortestVarint(0, 2), false)
    assert.equal(isShortestVarint(127, 1), true)
    assert.equal(isShortestVarint(128, 2), true)
    assert.equal(isShortestVarint(16383, 3), false)
    assert.equal(isShortestVarint(2097152, 4), true)
  })

  it('PUBLISH topic names and AUTH', () => {
    assert.equal(codeOf({ cmd: 'publish', qos: 0, topic: 'a/+' }), 0x90)
    assert.equal(codeOf({ cmd: 'publish', qos: 0, topic: '#' }), 0x90)
    assert.equal(codeOf({ cmd: 'publish', qos: 0, topic: '' }), PROTOCOL_ERROR)
    assert.equal(codeOf({ cmd: 'publish', qos: 0, topic: '', properties: { topicAlias: 1 } }), undefined)
    assert.equal(codeOf({ cmd: 'publish', qos: 0, topic: 'a', properties: { responseTopic: 'r/#' } }), PROTOCOL_ERROR)
    assert.equal(codeOf({ cmd: 'publish', qos: 0, topic: 'a', properties: { responseTopic: 'r/x' } }), undefined)
    assert.equal(codeOf({ cmd: 'auth' }), PROTOCOL_ERROR)
  })
})

describe('UNSUBSCRIBE filters and Topic Aliases', () => {
  it('refuses a malformed UNSUBSCRIBE filter with 0x8F, as a SUBSCRIBE one (§4.7)', () => {
    assert.equal(codeOf({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['a/+', 'a.+'] }), 0x8f)
    assert.equal(codeOf({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: [''] }), 0x8f)
    assert.equal(codeOf({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['a/#', '+/b'] }), undefined)
  })

  it('accepts a Topic Alias from 1 to the maximum only (MQTT-3.3.2-9)', () => {
    assert.equal(topicAliasRule({ cmd: 'publish', properties: { topicAlias: 1 } }, 0)?.reasonCode, 0x94)
    assert.equal(topicAliasRule({ cmd: 'publish', properties: { topicAlias: 0 } }, 5)?.reasonCode, 0x94)
    assert.equal(topicAliasRule({ cmd: 'publish', properties: { topicAlias: 6 } }, 5)?.reasonCode, 0x94)
    assert.equal(topicAliasRule({ cmd: 'publish', properties: { topicAlias: [1, 2] } }, 5)?.reasonCode, 0x94)
    assert.equal(topicAliasRule({ cmd: 'publish', properties: { topicAlias: 5 } }, 5), undefined)
    assert.equal(topicAliasRule({ cmd: 'publish' }, 0), undefined)
  })
})
