import { test } from 'node:test'
import assert from 'node:assert/strict'
import { authModifiers, publishModifiers, registerModifiers } from '../../../../src/broker/webhooks/modifiers.js'

test('auth_on_publish: qos rounds as VerneMQ does, out of range refuses; mountpoint is a string; properties only for _m5', () => {
  assert.deepEqual(publishModifiers('auth_on_publish', { qos: 1.4, mountpoint: 'm', retain: true, throttle: 20 }), { ok: true, value: { qos: 1, mountpoint: 'm', retain: true, throttle: 20 }, noEffect: [] })
  assert.deepEqual(publishModifiers('auth_on_publish', { qos: 3 }), { ok: false, problem: 'modifier qos has an invalid value 3' })
  assert.deepEqual(publishModifiers('auth_on_publish', { mountpoint: 5 }), { ok: false, problem: 'modifier mountpoint has an invalid value 5' })
  assert.deepEqual(publishModifiers('auth_on_publish', { properties: {} }), { ok: false, problem: 'modifier "properties" is not one VerneMQ allows' })
  assert.deepEqual(publishModifiers('auth_on_publish_m5', { properties: { p_content_type: 'a/b' } }), { ok: true, value: { properties: { contentType: 'a/b' } }, noEffect: [] })
  assert.deepEqual(publishModifiers('auth_on_publish', { topic: 'a/+' }), { ok: false, problem: 'modifier topic has an invalid value "a/+"' })
  // a throttle of 0 or less throttles nothing
  assert.deepEqual(publishModifiers('auth_on_publish', { throttle: 0 }), { ok: true, value: {}, noEffect: [] })
})

test('auth_on_register: per-client settings; client_id and mountpoint only together, as the subscriber id; the ones without effect are named', () => {
  assert.deepEqual(registerModifiers('auth_on_register', { max_message_size: 10, retry_interval: 500.2, upgrade_qos: true, queue_type: 'lifo', allow_publish: false }), {
    ok: true, value: { maxMessageSize: 10, retryIntervalMs: 500, upgradeQos: true, queueType: 'lifo', allowPublish: false }, noEffect: []
  })
  assert.deepEqual(registerModifiers('auth_on_register', { client_id: 'c', mountpoint: 'm', clean_session: false }), { ok: true, value: { subscriberId: { clientId: 'c', mountpoint: 'm' }, cleanSession: false }, noEffect: [] })
  assert.deepEqual(registerModifiers('auth_on_register_m5', { clean_session: false }), { ok: true, value: {}, noEffect: ['clean_session'] })
  assert.deepEqual(registerModifiers('auth_on_register_m5', { client_id: 'c', mountpoint: '' }), { ok: true, value: { subscriberId: { clientId: 'c', mountpoint: '' } }, noEffect: [] })
  // an empty id would be replaced by a generated one; U+0000 is not allowed in an MQTT string
  assert.deepEqual(registerModifiers('auth_on_register', { client_id: '', mountpoint: 'm' }), { ok: false, problem: 'modifiers client_id and mountpoint have an invalid value {"client_id":"","mountpoint":"m"}' })
  assert.deepEqual(registerModifiers('auth_on_register', { client_id: 'a\u0000b', mountpoint: 'm' }), { ok: false, problem: 'modifiers client_id and mountpoint have an invalid value {"client_id":"a\\u0000b","mountpoint":"m"}' })
  assert.deepEqual(registerModifiers('auth_on_register', { client_id: 'c', mountpoint: 5 }), { ok: false, problem: 'modifier "client_id" is not one VerneMQ allows' })
  assert.deepEqual(registerModifiers('auth_on_register', { mountpoint: 'm' }), { ok: false, problem: 'modifier "mountpoint" is not one VerneMQ allows' })
  assert.deepEqual(registerModifiers('auth_on_register', { client_id: 'c' }), { ok: false, problem: 'modifier "client_id" is not one VerneMQ allows' })
  assert.deepEqual(registerModifiers('auth_on_register', { properties: {} }), { ok: false, problem: 'modifier "properties" is not one VerneMQ allows' })
  assert.deepEqual(registerModifiers('auth_on_register_m5', { properties: {} }), { ok: true, value: {}, noEffect: ['properties'] })
  assert.deepEqual(registerModifiers('auth_on_register', { clean_session: 'yes' }), { ok: false, problem: 'modifier clean_session has an invalid value "yes"' })
  assert.deepEqual(registerModifiers('auth_on_register', { toString: 1 }), { ok: false, problem: 'modifier "toString" is not one VerneMQ allows' })
})

test('on_auth_m5: reason code and the method and data properties only', () => {
  assert.deepEqual(authModifiers({ reason_code: 24, properties: { p_authentication_method: 'M', p_authentication_data: Buffer.from('d').toString('base64') } }),
    { ok: true, value: { reasonCode: 24, method: 'M', data: Buffer.from('d') }, noEffect: [] })
  assert.deepEqual(authModifiers({ reason_code: 0, properties: { p_authentication_method: 'M', p_reason_string: 'x' } }), { ok: false, problem: 'property "p_reason_string" is not one VerneMQ allows' })
  assert.deepEqual(authModifiers({ properties: { p_authentication_method: 'M' } }), { ok: false, problem: 'modifier reason_code has an invalid value undefined' })
})
