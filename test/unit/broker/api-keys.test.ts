import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiKeyError, ApiKeys, generateKey, parseExpiry } from '../../../src/broker/api-keys.js'

const NO_POLICY = { minLength: 0, maxExpiryDays: 0 }

function withDir (body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vmq-keys-'))
  try { body(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
}

test('expiry: local time, or UTC with Z; impossible dates refused', () => {
  assert.equal(parseExpiry('2030-01-02T03:04:05Z'), Date.UTC(2030, 0, 2, 3, 4, 5))
  assert.equal(parseExpiry('2030-01-02T03:04:05'), new Date(2030, 0, 2, 3, 4, 5).getTime())
  for (const bad of ['2030-02-30T00:00:00', '2030-1-2T03:04:05', '2030-01-02 03:04:05', '2030-01-02T24:00:00', '']) {
    assert.throws(() => parseExpiry(bad), ApiKeyError, bad)
  }
})

test('generated keys: [A-Za-z0-9], 32 characters or min_apikey_length', () => {
  assert.match(generateKey(0), /^[A-Za-z0-9]{32}$/)
  assert.equal(generateKey(50).length, 50)
})

test('allows: right scope, not expired; a key per scope; survives a reload from the file', () => {
  withDir(dir => {
    const keys = new ApiKeys(dir)
    const now = Date.UTC(2030, 0, 1)
    keys.add({ key: 'k1', scope: 'metrics' }, NO_POLICY, now)
    keys.add({ key: 'k1', scope: 'health', expires: now + 1000 }, NO_POLICY, now)
    assert.equal(keys.allows('k1', 'metrics', now), true)
    assert.equal(keys.allows('k1', 'status', now), false)
    assert.equal(keys.allows('k1', 'health', now + 999), true)
    assert.equal(keys.allows('k1', 'health', now + 1000), false)
    assert.equal(keys.allows('k2', 'metrics', now), false)
    assert.deepEqual(new ApiKeys(dir).list(), keys.list())
    assert.notEqual(keys.delete('k1', 'metrics'), undefined)
    assert.equal(keys.delete('k1', 'metrics'), undefined)
    assert.equal(keys.allows('k1', 'metrics', now), false)
    assert.deepEqual(new ApiKeys(dir).list('metrics'), [])
  })
})

test('merge: per key and scope the newer change wins, deletions included', () => {
  withDir(dir => {
    const keys = new ApiKeys(dir)
    keys.merge([{ key: 'a', scope: 'mgmt', changed: 10 }, { key: 'b', scope: 'mgmt', changed: 10 }])
    assert.equal(keys.merge([{ key: 'a', scope: 'mgmt', changed: 5, deleted: true }]), false)
    assert.equal(keys.merge([{ key: 'b', scope: 'mgmt', changed: 11, deleted: true }]), true)
    assert.deepEqual(keys.list().map(k => k.key), ['a'])
    assert.equal(keys.merge([{ key: 'b', scope: 'mgmt', changed: 12 }]), true)
    assert.deepEqual(keys.list().map(k => k.key).sort(), ['a', 'b'])
    assert.equal(keys.all().length, 2)
  })
})

test('policy: length, duplicates, header-unsafe characters, past and too-far expiry', () => {
  withDir(dir => {
    const keys = new ApiKeys(dir)
    const now = Date.UTC(2030, 0, 1)
    assert.throws(() => { keys.add({ key: 'short', scope: 'mgmt' }, { minLength: 6, maxExpiryDays: 0 }, now) }, /at least 6 characters/)
    keys.add({ key: 'longer', scope: 'mgmt' }, { minLength: 6, maxExpiryDays: 0 }, now)
    assert.throws(() => { keys.add({ key: 'longer', scope: 'mgmt' }, NO_POLICY, now) }, /already exists in scope mgmt/)
    assert.throws(() => { keys.add({ key: 'a:b', scope: 'mgmt' }, NO_POLICY, now) }, /may not contain/)
    assert.throws(() => { keys.add({ key: 'past', scope: 'mgmt', expires: now }, NO_POLICY, now) }, /in the past/)
    const ten = { minLength: 0, maxExpiryDays: 10 }
    assert.throws(() => { keys.add({ key: 'never', scope: 'mgmt' }, ten, now) }, /within 10 days/)
    assert.throws(() => { keys.add({ key: 'late', scope: 'mgmt', expires: now + 10 * 86_400_000 }, ten, now) }, /within 10 days/)
    keys.add({ key: 'soon', scope: 'mgmt', expires: now + 9 * 86_400_000 }, ten, now)
  })
})

test('a broken key file stops the start with its path', () => {
  withDir(dir => {
    writeFileSync(join(dir, 'api_keys.json'), '{nope')
    assert.throws(() => new ApiKeys(dir), { message: `${join(dir, 'api_keys.json')}: not valid JSON; fix or remove the file (it holds the API keys)` })
  })
})
