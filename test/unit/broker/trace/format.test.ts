import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type mqttPacket from 'mqtt-packet'
import { describePacket } from '../../../../src/broker/trace/format.js'

const line = (packet: object, trunc = 200): string => describePacket(packet as mqttPacket.Packet, trunc)

describe('trace lines', () => {
  it('CONNECT shows the client id, version, username, clean session and keep alive, never the password', () => {
    assert.equal(line({ cmd: 'connect', clientId: 'c1', protocolVersion: 4, username: 'alice', password: Buffer.from('secret'), clean: true, keepalive: 60 }),
      'CONNECT(c: "c1", v: 4, u: "alice", cs: 1, ka: 60)')
    assert.equal(line({ cmd: 'connect', clientId: 'c2', protocolVersion: 5, clean: false, keepalive: 0, will: { topic: 'w', qos: 1, retain: true } }),
      'CONNECT(c: "c2", v: 5, u: undefined, cs: 0, ka: 0, will: "w" q1 r1)')
  })

  it('CONNACK names a 3.1.1 return code; MQTT 5 reason codes in hex', () => {
    assert.equal(line({ cmd: 'connack', sessionPresent: false, returnCode: 5 }), 'CONNACK(sp: 0, rc: 5 not_authorized)')
    assert.equal(line({ cmd: 'connack', sessionPresent: true, reasonCode: 0x87 }), 'CONNACK(sp: 1, rc: 0x87)')
  })

  it('PUBLISH: flags, packet id, topic and the payload cut and escaped', () => {
    assert.equal(line({ cmd: 'publish', dup: false, qos: 1, retain: true, messageId: 7, topic: 'a/b', payload: Buffer.from('hi\u001b\u0085') }),
      'PUBLISH(d0, q1, r1, m7, "a/b") payload: "hi\\u001b\\u0085"')
    assert.equal(line({ cmd: 'publish', qos: 0, retain: false, topic: '', payload: Buffer.from('x'), properties: { topicAlias: 3 } }),
      'PUBLISH(d0, q0, r0, "", alias 3) payload: "x"')
    assert.equal(line({ cmd: 'publish', qos: 0, retain: false, topic: 't', payload: Buffer.from('abcdef') }, 3),
      'PUBLISH(d0, q0, r0, "t") payload: "abc" (6 bytes, first 3 shown)')
  })

  it('SUBSCRIBE, SUBACK, acks, UNSUBSCRIBE, PINGREQ and DISCONNECT', () => {
    assert.equal(line({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }, { topic: 'b', qos: 0 }] }), 'SUBSCRIBE(m1, q1 "a/#", q0 "b")')
    assert.equal(line({ cmd: 'suback', messageId: 1, granted: [1, 128] }), 'SUBACK(m1, [1, 0x80])')
    assert.equal(line({ cmd: 'puback', messageId: 3 }), 'PUBACK(m3)')
    assert.equal(line({ cmd: 'pubrec', messageId: 3, reasonCode: 0x87 }), 'PUBREC(m3, rc: 0x87)')
    assert.equal(line({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['a/#'] }), 'UNSUBSCRIBE(m4, "a/#")')
    assert.equal(line({ cmd: 'pingreq' }), 'PINGREQ()')
    assert.equal(line({ cmd: 'disconnect', reasonCode: 0x8e }), 'DISCONNECT(rc: 0x8e)')
  })
})
