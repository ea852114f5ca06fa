import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cookieMatches } from '../../../src/rpc/cookie-check.js'

test('cookieMatches: equal cookies only; empty, missing or different lengths never match', () => {
  assert.equal(cookieMatches('s3cret', 's3cret'), true)
  assert.equal(cookieMatches('s3cret', 's3cre'), false)
  assert.equal(cookieMatches('s3cret-longer', 's3cret'), false)
  assert.equal(cookieMatches('', ''), false)
  assert.equal(cookieMatches(undefined, 'vmq'), false)
  assert.equal(cookieMatches(Buffer.from('vmq'), 'vmq'), false)
})
