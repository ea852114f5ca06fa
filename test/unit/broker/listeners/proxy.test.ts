import { test } from 'node:test'
import assert from 'node:assert/strict'
import { frameHeader, ProxyHeaderError } from '../../../../src/broker/listeners/proxy.js'

const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'binary')

/** A v2 header: PROXY command (or LOCAL), TCP over IPv4 or IPv6, optional TLVs. */
function v2 (opts: { local?: boolean, v6?: boolean, tlvs?: Buffer } = {}): Buffer {
  const addresses = opts.v6 === true
    ? Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.alloc(15), Buffer.from([1]), Buffer.from([0x10, 0x92, 0x07, 0x5b])])
    : Buffer.from([203, 0, 113, 7, 10, 0, 0, 1, 0x10, 0x92, 0x07, 0x5b])
  const tlvs = opts.tlvs ?? Buffer.alloc(0)
  const head = Buffer.from([opts.local === true ? 0x20 : 0x21, opts.v6 === true ? 0x21 : 0x11, 0, 0])
  head.writeUInt16BE(addresses.length + tlvs.length, 2)
  return Buffer.concat([SIGNATURE, head, addresses, tlvs])
}

function tlv (type: number, value: Buffer): Buffer {
  const head = Buffer.from([type, 0, 0])
  head.writeUInt16BE(value.length, 1)
  return Buffer.concat([head, value])
}

function sslTlv (cn: string, verify = 0): Buffer {
  const fixed = Buffer.alloc(5)
  fixed[0] = 0x01 | 0x02 // PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN
  fixed.writeUInt32BE(verify, 1)
  return tlv(0x20, Buffer.concat([fixed, tlv(0x21, Buffer.from('TLSv1.3')), tlv(0x22, Buffer.from(cn))]))
}

test('a v1 TCP4 line gives the source address and leaves the MQTT bytes', () => {
  const data = Buffer.concat([Buffer.from('PROXY TCP4 198.51.100.9 10.0.0.1 40000 1883\r\n'), Buffer.from([0x10, 0x0c])])
  const framed = frameHeader(data)
  assert.deepEqual(framed?.header, { source: { host: '198.51.100.9', port: 40000 }, commonName: undefined })
  assert.deepEqual(data.subarray(framed?.length), Buffer.from([0x10, 0x0c]))
})

test('v1 TCP6 and UNKNOWN', () => {
  assert.deepEqual(frameHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4242 1883\r\n'))?.header.source, { host: '2001:db8::7', port: 4242 })
  assert.equal(frameHeader(Buffer.from('PROXY UNKNOWN\r\n'))?.header.source, undefined)
})

test('incomplete headers ask for more bytes', () => {
  assert.equal(frameHeader(Buffer.from('PROX')), undefined)
  assert.equal(frameHeader(Buffer.from('PROXY TCP4 1.2.3.4')), undefined)
  assert.equal(frameHeader(v2().subarray(0, 10)), undefined)
  assert.equal(frameHeader(v2().subarray(0, 20)), undefined)
})

test('a connection that starts with anything else is refused', () => {
  assert.throws(() => frameHeader(Buffer.from([0x10, 0x0c, 0, 4])), ProxyHeaderError)
  assert.throws(() => frameHeader(Buffer.from('PROXY TCP4 999.1.1.1 10.0.0.1 1 2\r\n')), /malformed PROXY v1 line/)
  assert.throws(() => frameHeader(Buffer.from('PROXY TCP4 1.2.3.4 10.0.0.1 70000 2\r\n')), /malformed PROXY v1 line/)
  assert.throws(() => frameHeader(Buffer.from('PROXY ' + 'x'.repeat(120))), /longer than 107 bytes/)
})

test('v2 IPv4 and IPv6 give the source address; LOCAL gives none', () => {
  const data = Buffer.concat([v2(), Buffer.from([0x10])])
  const framed = frameHeader(data)
  assert.deepEqual(framed?.header, { source: { host: '203.0.113.7', port: 4242 }, commonName: undefined })
  assert.equal(framed?.length, data.length - 1)
  assert.deepEqual(frameHeader(v2({ v6: true }))?.header.source, { host: '2001:db8::1', port: 4242 })
  assert.equal(frameHeader(v2({ local: true }))?.header.source, undefined)
})

test('v2 SSL TLV: the CN counts only when the proxy verified the certificate', () => {
  assert.equal(frameHeader(v2({ tlvs: Buffer.concat([tlv(0x04, Buffer.from('noop')), sslTlv('alice')]) }))?.header.commonName, 'alice')
  assert.equal(frameHeader(v2({ tlvs: sslTlv('alice', 1) }))?.header.commonName, undefined)
  assert.throws(() => frameHeader(v2({ tlvs: Buffer.from([0x20, 0, 9, 1]) })), /truncated PROXY v2 TLV/)
})
