import { test } from 'node:test'
import assert from 'node:assert/strict'
import { identityRefusal } from '../../../../src/broker/policy/connect.js'

const ok = { allowedVersions: ['3', '4', '5'], protocolVersion: 4, clientIdLength: 5, maxClientIdSize: 100, clientIdInvalid: false }

test('CONNECT identity: protocol level per listener, then client id size and form', () => {
  assert.equal(identityRefusal(ok), undefined)
  assert.deepEqual(identityRefusal({ ...ok, allowedVersions: ['3', '4'], protocolVersion: 5 }), { code: 1, reason: 'unsupported_protocol_version' })
  assert.deepEqual(identityRefusal({ ...ok, clientIdLength: 101 }), { code: 2, reason: 'client_identifier_not_valid' })
  assert.equal(identityRefusal({ ...ok, clientIdLength: 100 }), undefined)
  assert.deepEqual(identityRefusal({ ...ok, clientIdInvalid: true }), { code: 2, reason: 'client_identifier_not_valid' })
})

test('an empty client id: refused for MQTT 3.1 (no assigned ids there), accepted for 3.1.1 and 5', () => {
  assert.deepEqual(identityRefusal({ ...ok, protocolVersion: 3, clientIdLength: 0 }), { code: 2, reason: 'client_identifier_not_valid' })
  assert.equal(identityRefusal({ ...ok, protocolVersion: 4, clientIdLength: 0 }), undefined)
  assert.equal(identityRefusal({ ...ok, protocolVersion: 5, clientIdLength: 0 }), undefined)
})

test('a version not allowed is refused before the id is looked at', () => {
  assert.deepEqual(identityRefusal({ ...ok, allowedVersions: ['4'], protocolVersion: 3, clientIdLength: 0 }), { code: 1, reason: 'unsupported_protocol_version' })
})
