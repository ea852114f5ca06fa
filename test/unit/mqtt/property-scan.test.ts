import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { scanProperties, MALFORMED_PACKET, PROTOCOL_ERROR } from '../../../src/mqtt/property-scan.js'

const block = (...bytes: number[]): Buffer => Buffer.from([bytes.length, ...bytes])

describe('scanProperties', () => {
  it('accepts an empty block and whole properties of every shape', () => {
    assert.equal(scanProperties(Buffer.from([0])), undefined)
    assert.equal(scanProperties(block(
      0x01, 1, // payload format indicator
      0x02, 0, 0, 0, 60, // message expiry interval
      0x03, 0, 1, 0x61, // content type "a"
      0x09, 0, 2, 0xff, 0x00, // correlation data: any bytes
      0x23, 0, 3, // topic alias
      0x26, 0, 1, 0x6b, 0, 1, 0x76, // user property k=v
      0x26, 0, 1, 0x6b, 0, 1, 0x77 // user property again: allowed
    )), undefined)
  })

  it('refuses a repeated single-valued property with Protocol Error, whatever its value', () => {
    assert.deepEqual(scanProperties(block(0x11, 0, 0, 0, 0, 0x11, 0, 0, 0, 5)),
      { reasonCode: PROTOCOL_ERROR, reason: 'session expiry interval property given more than once' })
    assert.equal(scanProperties(block(0x01, 0, 0x01, 0))?.reasonCode, PROTOCOL_ERROR)
  })

  it('refuses a value that runs past the block as Malformed Packet', () => {
    assert.deepEqual(scanProperties(Buffer.from([2, 0x08, 0x00, 0x78])),
      { reasonCode: MALFORMED_PACKET, reason: 'response topic property runs past the end of the property block' })
    assert.equal(scanProperties(block(0x02, 0, 0))?.reasonCode, MALFORMED_PACKET)
    assert.equal(scanProperties(block(0x26, 0, 1, 0x6b, 0, 5, 0x76))?.reasonCode, MALFORMED_PACKET)
    assert.equal(scanProperties(block(0x0b, 0x80))?.reasonCode, MALFORMED_PACKET)
  })

  it('refuses a block longer than the packet, an unknown property, bad UTF-8 and U+0000', () => {
    assert.equal(scanProperties(Buffer.from([9, 0x01, 0]))?.reason, 'property length runs past the end of the packet')
    assert.equal(scanProperties(block(0x7f, 0))?.reason, 'unknown property 0x7f')
    assert.equal(scanProperties(block(0x03, 0, 2, 0xc3, 0x28))?.reasonCode, MALFORMED_PACKET)
    assert.equal(scanProperties(block(0x03, 0, 1, 0x00))?.reasonCode, MALFORMED_PACKET)
    assert.equal(scanProperties(Buffer.from([0xff, 0xff, 0xff, 0xff]))?.reason, 'property length is not a valid variable byte integer')
  })
})

describe('scanProperties with the packet named (MQTT 5 §2.2.2.2)', () => {
  it('refuses a property not allowed in that packet as malformed', () => {
    const contentType = block(0x03, 0, 1, 0x61)
    assert.equal(scanProperties(contentType, 'publish'), undefined)
    assert.equal(scanProperties(contentType, 'will'), undefined)
    for (const of of ['connect', 'ack', 'subscribe', 'unsubscribe', 'disconnect', 'auth'] as const) {
      assert.equal(scanProperties(contentType, of)?.reasonCode, MALFORMED_PACKET, of)
    }
    assert.equal(scanProperties(block(0x26, 0, 1, 0x6b, 0, 1, 0x76), 'unsubscribe'), undefined)
    assert.equal(scanProperties(block(0x0b, 7), 'subscribe'), undefined)
    assert.equal(scanProperties(block(0x23, 0, 1), 'subscribe')?.reason, 'topic alias property is not allowed in a SUBSCRIBE (MQTT 5 §2.2.2.2)')
  })

  it('refuses the values the specification calls a Protocol Error', () => {
    assert.equal(scanProperties(block(0x01, 2), 'publish')?.reasonCode, PROTOCOL_ERROR)
    assert.equal(scanProperties(block(0x17, 2), 'connect')?.reasonCode, PROTOCOL_ERROR)
    assert.equal(scanProperties(block(0x19, 7), 'connect')?.reasonCode, PROTOCOL_ERROR)
    assert.equal(scanProperties(block(0x27, 0, 0, 0, 0), 'connect')?.reasonCode, PROTOCOL_ERROR)
    assert.equal(scanProperties(block(0x21, 0, 0), 'connect')?.reasonCode, PROTOCOL_ERROR)
    assert.equal(scanProperties(block(0x21, 0, 1, 0x22, 0, 0), 'connect'), undefined)
    assert.equal(scanProperties(block(0x0b, 0), 'subscribe')?.reasonCode, PROTOCOL_ERROR)
    assert.equal(scanProperties(block(0x01, 1, 0x17, 0, 0x19, 1), undefined), undefined)
  })
})
