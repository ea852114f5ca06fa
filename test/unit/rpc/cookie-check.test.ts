import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cookieMatches } from '../../../src/rpc/cookie-check.js'
import { OncePer } from '../../../src/rpc/rate-limit.js'

test('cookieMatches: equal cookies only; empty, missing or different lengths never match', () => {
  assert.equal(cookieMatches('s3cret', 's3cret'), true)
  assert.equal(cookieMatches('s3cret', 's3cre'), false)
  assert.equal(cookieMatches('s3cret-longer', 's3cret'), false)
  assert.equal(cookieMatches('', ''), false)
  assert.equal(cookieMatches(undefined, 'vmq'), false)
  assert.equal(cookieMatches(Buffer.from('vmq'), 'vmq'), false)
})

test('OncePer: yes once per key and period, with the count held back meanwhile', () => {
  const once = new OncePer(60_000)
  assert.equal(once.hit('10.0.0.1'), 0)
  assert.equal(once.hit('10.0.0.1'), undefined)
  assert.equal(once.hit('10.0.0.1'), undefined)
  assert.equal(once.hit('10.0.0.2'), 0)
  const expired = new OncePer(0)
  assert.equal(expired.hit('a'), 0)
  assert.equal(expired.hit('a'), 0)
})
