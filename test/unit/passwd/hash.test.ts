import { test } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import { hashPassword, looksHashed, parseHash, verifyPassword, type ParsedHash } from '../../../src/passwd/hash.js'

// VERNEMQ.md §2.2 and §2.3: password `secret`, salt bytes 0x00..0x0b.
const SALT = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
const SHA512_VECTOR = '$6$AAECAwQFBgcICQoL$JqsxEv/ucyxjA5DKsQ+Y8CDWaQDNQI9FpAkmfwAqWfwZLk/JEGgM0EpylrJHAZKKyFQjJeZ3nFaHjPzOzPPmPw=='
const PBKDF2_VECTOR = '$7$101$AAECAwQFBgcICQoL$Xr99N9ym9ys8TWxis5ajETJq6EVYzmc6nb8t3pUYnPBbCAbICS4xejTltonXWCtJNBvA+By+TXUqU6qCblO00w=='

function parsed (text: string): ParsedHash {
  const result = parseHash(text)
  if (typeof result === 'string') assert.fail(`${text} did not parse: ${result}`)
  return result
}

test('$6$ of the reference vector is reproduced exactly', () => {
  assert.equal(hashPassword('secret', SALT), SHA512_VECTOR)
})

test('$6$ reference vector verifies, a wrong password does not', async () => {
  assert.equal(await verifyPassword(parsed(SHA512_VECTOR), 'secret'), true)
  assert.equal(await verifyPassword(parsed(SHA512_VECTOR), Buffer.from('secret')), true)
  assert.equal(await verifyPassword(parsed(SHA512_VECTOR), 'Secret'), false)
  assert.equal(await verifyPassword(parsed(SHA512_VECTOR), ''), false)
})

test('$7$ (mosquitto PBKDF2-SHA512) reference vector verifies, a wrong password does not', async () => {
  const hash = parsed(PBKDF2_VECTOR)
  assert.equal(hash.kind, 'pbkdf2-sha512')
  assert.equal(await verifyPassword(hash, 'secret'), true)
  assert.equal(await verifyPassword(hash, 'secret2'), false)
})

test('new $6$ hashes use a fresh 12-byte salt and verify', async () => {
  const a = hashPassword('pw')
  const b = hashPassword('pw')
  assert.notEqual(a, b)
  assert.match(a, /^\$6\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/)
  assert.equal(await verifyPassword(parsed(a), 'pw'), true)
})

test('bcrypt $2a$, $2b$ and $2y$ verify', async () => {
  const b = await bcrypt.hash('s3cret', 4)
  assert.match(b, /^\$2b\$04\$/)
  for (const variant of ['$2a$', '$2b$', '$2y$']) {
    const text = variant + b.slice(4)
    assert.equal(await verifyPassword(parsed(text), 's3cret'), true, variant)
    assert.equal(await verifyPassword(parsed(text), 'nope'), false, variant)
  }
})

test('a bcrypt check runs off the event loop', async () => {
  const hash = await bcrypt.hash('slow', 11)
  let ticks = 0
  const counter = setInterval(() => { ticks++ }, 1)
  const results = await Promise.all([verifyPassword(parsed(hash), 'slow'), verifyPassword(parsed(hash), 'wrong')])
  clearInterval(counter)
  assert.deepEqual(results, [true, false])
  // bcryptjs' own async mode gives the loop back only every 100 ms: a few ticks at most.
  assert.ok(ticks >= 20, `the 1 ms timer ran only ${ticks} times during two cost-11 checks`)
})

test('passwords are compared as bytes (UTF-8)', async () => {
  const text = hashPassword('pässwörd')
  assert.equal(await verifyPassword(parsed(text), Buffer.from('pässwörd', 'utf8')), true)
  assert.equal(await verifyPassword(parsed(text), Buffer.from('pässwörd', 'latin1')), false)
})

test('malformed hashes are explained, not thrown', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['plain', /not hashed/],
    ['$5$abc$def', /unsupported hash type '5'/],
    ['$6$AAECAwQFBgcICQoL', /expected \$6\$<salt>\$<hash>/],
    ['$6$!!!!$' + 'A'.repeat(88), /salt is not base64/],
    ['$6$AAECAwQFBgcICQoL$AAAA', /hash is not 64 bytes/],
    ['$7$abc$AAECAwQFBgcICQoL$' + 'A'.repeat(86) + '==', /iterations 'abc'/],
    ['$7$0$AAECAwQFBgcICQoL$' + 'A'.repeat(86) + '==', /iterations '0'/],
    ['$7$101$AAECAwQFBgcICQoL', /expected \$7\$/],
    ['$2b$10$short', /malformed bcrypt/]
  ]
  for (const [text, message] of cases) {
    const result = parseHash(text)
    assert.equal(typeof result, 'string', text)
    assert.match(result as string, message, text)
  }
})

test('looksHashed recognises the formats -U must leave alone', () => {
  for (const text of ['$6$x$y', '$7$1$x$y', '$2a$10$x', '$2b$x', '$2y$x']) assert.equal(looksHashed(text), true, text)
  for (const text of ['secret', '$5$x', '$2x$', '6$']) assert.equal(looksHashed(text), false, text)
})
