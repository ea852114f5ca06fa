import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parsePasswordText, parsePasswordBufferInSlices, readPasswordFile } from '../../../src/passwd/file.js'
import { hashPassword, verifyHashText } from '../../../src/passwd/hash.js'
import { formatProblem } from '../../../src/broker/auth/types.js'

const H6 = '$6$AAECAwQFBgcICQoL$JqsxEv/ucyxjA5DKsQ+Y8CDWaQDNQI9FpAkmfwAqWfwZLk/JEGgM0EpylrJHAZKKyFQjJeZ3nFaHjPzOzPPmPw=='
const H7 = '$7$101$AAECAwQFBgcICQoL$Xr99N9ym9ys8TWxis5ajETJq6EVYzmc6nb8t3pUYnPBbCAbICS4xejTltonXWCtJNBvA+By+TXUqU6qCblO00w=='

test('comments, blank lines and CRLF are accepted; every format loads', async () => {
  const text = [
    '# users of the test broker',
    '',
    `alice:${H6}`,
    '   ',
    `  # indented comment`,
    `bob:${H7}\r`,
    `carol:${hashPassword('c')}   `
  ].join('\n') + '\r\n'
  const table = parsePasswordText(text, 'vmq.passwd')
  assert.deepEqual(table.problems, [])
  assert.deepEqual([...table.users.keys()], ['alice', 'bob', 'carol'])
  assert.equal(await verifyHashText(table.users.get('alice')!, 'secret'), true)
  assert.equal(await verifyHashText(table.users.get('bob')!, 'secret'), true)
  assert.equal(await verifyHashText(table.users.get('carol')!, 'c'), true)
})

test('a bad line is reported as file:line and skipped; the other lines still load', () => {
  const text = [
    `alice:${H6}`,
    'no-colon-here',
    `a:b:${H6}`,
    `dave:plain`,
    `:${H6}`,
    `erin:$6$short`,
    `frank:${H7}`
  ].join('\n')
  const table = parsePasswordText(text, '/etc/vernemq/vmq.passwd')
  assert.deepEqual([...table.users.keys()], ['alice', 'frank'])
  assert.deepEqual(table.problems.map(formatProblem), [
    "/etc/vernemq/vmq.passwd:2: no ':' between username and password hash",
    "/etc/vernemq/vmq.passwd:3: more than one ':' (usernames may not contain ':')",
    "/etc/vernemq/vmq.passwd:4: user 'dave': password is not hashed (run `vmq passwd -U <file>` to hash plain passwords)",
    '/etc/vernemq/vmq.passwd:5: empty username',
    "/etc/vernemq/vmq.passwd:6: user 'erin': malformed $6$ hash: expected $6$<salt>$<hash>, found 2 '$'"
  ])
})

test('a user listed twice: the later line wins', async () => {
  const table = parsePasswordText(`u:${hashPassword('old')}\nu:${hashPassword('new')}\n`, 'f')
  assert.equal(table.users.size, 1)
  assert.equal(await verifyHashText(table.users.get('u')!, 'new'), true)
})

test('usernames are taken exactly (spaces and UTF-8 kept)', () => {
  const table = parsePasswordText(`jürgen müller:${H6}\n`, 'f')
  assert.deepEqual([...table.users.keys()], ['jürgen müller'])
})

test('the sliced parser gives the same result as the one-shot parser', async () => {
  const lines: string[] = []
  for (let i = 0; i < 3000; i++) lines.push(i % 500 === 7 ? `broken line ${i}` : `user${i}:${H6}`)
  const text = lines.join('\n')
  const whole = parsePasswordText(text, 'f')
  const sliced = await parsePasswordBufferInSlices(Buffer.from(text), 'f', 0)
  assert.deepEqual([...sliced.users.keys()], [...whole.users.keys()])
  assert.deepEqual(sliced.problems, whole.problems)
  assert.equal(whole.users.size, 2994)
})

test('readPasswordFile reads a file and throws ENOENT for a missing one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmq-passwd-file-'))
  try {
    await writeFile(join(dir, 'p'), `alice:${H6}\n`)
    assert.deepEqual([...(await readPasswordFile(join(dir, 'p'))).users.keys()], ['alice'])
    await assert.rejects(readPasswordFile(join(dir, 'missing')), { code: 'ENOENT' })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('the sliced parser cuts chunks only at line breaks (multi-byte names, CRLF, long lines)', async () => {
  const lines: string[] = []
  for (let i = 0; i < 6000; i++) lines.push(`jürgen-ß-${i}:${H6}${i % 2 === 0 ? '\r' : ''}`)
  lines.push(`long:${H6}` + ' '.repeat(300_000))
  const text = lines.join('\n')
  assert.ok(Buffer.byteLength(text) > 2 * 256 * 1024)
  const sliced = await parsePasswordBufferInSlices(Buffer.from(text), 'f', 0)
  assert.deepEqual(sliced.problems, [])
  assert.equal(sliced.users.size, 6001)
  assert.deepEqual([...sliced.users.keys()], [...parsePasswordText(text, 'f').users.keys()])
})

test('a UTF-8 byte order mark at the start is ignored', async () => {
  const text = `\uFEFFalice:${H6}\n`
  assert.deepEqual([...parsePasswordText(text, 'f').users.keys()], ['alice'])
  assert.deepEqual([...(await parsePasswordBufferInSlices(Buffer.from(text), 'f')).users.keys()], ['alice'])
})

test('a user listed again is noted with both line numbers', () => {
  const table = parsePasswordText(`u:${H6}\nv:${H6}\nu:${H6}\nu:${H6}\n`, 'f')
  assert.deepEqual(table.repeated.map(p => `${p.file}:${p.line}: ${p.message}`), [
    'f:3: user u given again (first at line 1); the later entry wins',
    'f:4: user u given again (first at line 1); the later entry wins'
  ])
})
