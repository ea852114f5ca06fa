import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AnswerCache } from '../../../../src/broker/webhooks/cache.js'
import { maxAge } from '../../../../src/broker/webhooks/http.js'
import { readAnswer } from '../../../../src/broker/webhooks/answers.js'

test('cache-control max-age is read as VerneMQ reads it', () => {
  assert.equal(maxAge('max-age=45'), 45)
  assert.equal(maxAge('  max-age=45,sthelse'), 45)
  assert.equal(maxAge('no-cache'), undefined)
  assert.equal(maxAge('max-age=x'), undefined)
  assert.equal(maxAge(undefined), undefined)
})

test('the cache key leaves out the payload and the peer port; entries expire; the payload modifier is not kept', () => {
  let now = 1000
  const cache = new AnswerCache(() => now)
  const args = { peer_addr: '127.0.0.1', peer_port: 5000, client_id: 'c', payload: 'aGk=' }
  assert.equal(cache.lookup('http://e', 'auth_on_publish', args), undefined)
  cache.insert('http://e', 'auth_on_publish', args, 2, { topic: 't', payload: 'x' })
  assert.deepEqual(cache.lookup('http://e', 'auth_on_publish', { ...args, peer_port: 6000, payload: 'other' }), { topic: 't' })
  assert.equal(cache.lookup('http://e', 'auth_on_publish', { ...args, client_id: 'd' }), undefined)
  now += 2000
  assert.equal(cache.lookup('http://e', 'auth_on_publish', args), undefined)
  assert.deepEqual(cache.rows().sort((a, b) => a.stat.localeCompare(b.stat)), [
    { stat: 'entries', endpoint: 'http://e', hook: 'auth_on_publish', value: 0 },
    { stat: 'hits', endpoint: 'http://e', hook: 'auth_on_publish', value: 1 },
    { stat: 'misses', endpoint: 'http://e', hook: 'auth_on_publish', value: 3 }
  ])
})

test('answers: ok with modifiers, next, error; auth_on_subscribe topics at the top level', () => {
  assert.deepEqual(readAnswer('auth_on_publish', { result: 'ok', modifiers: { topic: 'x' } }), { kind: 'ok', modifiers: { topic: 'x' } })
  assert.deepEqual(readAnswer('auth_on_register', { result: 'next' }), { kind: 'next' })
  assert.deepEqual(readAnswer('auth_on_register', { result: { error: 'not_allowed' } }), { kind: 'error', reason: 'not_allowed' })
  assert.deepEqual(readAnswer('auth_on_subscribe', { result: 'ok', topics: [{ topic: 'a', qos: 1 }] }), { kind: 'ok', modifiers: { topics: [{ topic: 'a', qos: 1 }] } })
  assert.deepEqual(readAnswer('auth_on_register', []), { kind: 'error', reason: 'invalid_response' })
  assert.deepEqual(readAnswer('auth_on_register', { answer: 'ok' }), { kind: 'error', reason: 'invalid_response' })
})
