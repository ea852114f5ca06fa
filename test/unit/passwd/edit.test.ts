import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createFile, deleteUser, hashPlainPasswords, PasswdError, setUser, usernameProblem,
  withoutUser, withPlainPasswordsHashed, withUser
} from '../../../src/passwd/edit.js'
import { parsePasswordText } from '../../../src/passwd/file.js'
import { verifyHashText } from '../../../src/passwd/hash.js'

async function inTempDir (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmq-passwd-edit-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function checks (file: string, username: string, password: string): Promise<boolean> {
  const table = parsePasswordText(await readFile(file, 'utf8'), file)
  assert.deepEqual(table.problems, [])
  const hash = table.users.get(username)
  return hash !== undefined && await verifyHashText(hash, password)
}

test('usernames with ":", control characters, a leading "#" or nothing are refused', () => {
  assert.match(usernameProblem('a:b') ?? '', /must not contain the ':' character/)
  assert.match(usernameProblem('a\tb') ?? '', /control characters/)
  assert.match(usernameProblem('a\nb') ?? '', /control characters/)
  assert.match(usernameProblem('#admin') ?? '', /must not start with '#'/)
  assert.match(usernameProblem('') ?? '', /must not be empty/)
  assert.match(usernameProblem('x'.repeat(65536)) ?? '', /longer than 65535 bytes/)
  assert.equal(usernameProblem('henry'), undefined)
  assert.equal(usernameProblem('jürgen müller'), undefined)
})

test('withUser replaces the user in place, keeps everything else, appends a new user', () => {
  const text = '# comment\nalice:A\n\nbob:B\nalice:A2\nbroken\n'
  assert.equal(withUser(text, 'alice', 'alice:N'), '# comment\nalice:N\n\nbob:B\nbroken\n')
  assert.equal(withUser(text, 'carol', 'carol:N'), text + 'carol:N\n')
  assert.equal(withUser('a:1', 'b', 'b:2'), 'a:1\nb:2\n')
  assert.equal(withUser('', 'b', 'b:2'), 'b:2\n')
})

test('withUser keeps CRLF line endings', () => {
  assert.equal(withUser('a:1\r\nb:2\r\n', 'b', 'b:N'), 'a:1\r\nb:N\r\n')
  assert.equal(withUser('a:1\r\n', 'c', 'c:N'), 'a:1\r\nc:N\r\n')
})

test('withoutUser removes every line of the user and says whether there was one', () => {
  assert.deepEqual(withoutUser('a:1\nb:2\na:3\n# a:4\n', 'a'), { text: 'b:2\n# a:4\n', found: true })
  assert.deepEqual(withoutUser('a:1\n', 'b'), { text: 'a:1\n', found: false })
  assert.deepEqual(withoutUser('a:1\n', 'a'), { text: '', found: true })
})

test('withPlainPasswordsHashed hashes plain lines and warns once per hashed line', async () => {
  const text = '# c\nalice:secret\nbob:$6$x$y\ncarol:$2b$10$zzz\ndave:\nerin:pa:ss\r\nno-colon\n'
  const result = withPlainPasswordsHashed(text, 'f')
  assert.equal(result.changed, true)
  assert.deepEqual(result.warnings, [
    'Warning: f:3: password of user bob is already hashed; line left unchanged.',
    'Warning: f:4: password of user carol is already hashed; line left unchanged.',
    'Warning: f:5: user dave has an empty password; line left unchanged.'
  ])
  const lines = result.text.split('\n')
  assert.equal(lines[0], '# c')
  assert.match(lines[1], /^alice:\$6\$/)
  assert.deepEqual(lines.slice(2, 5), ['bob:$6$x$y', 'carol:$2b$10$zzz', 'dave:'])
  assert.match(lines[5], /^erin:\$6\$.*\r$/)
  assert.equal(lines[6], 'no-colon')
  const table = parsePasswordText(result.text, 'f')
  assert.equal(await verifyHashText(table.users.get('alice')!, 'secret'), true)
  assert.equal(await verifyHashText(table.users.get('erin')!, 'pa:ss'), true)
})

test('createFile makes a 0600 file with one user and refuses to overwrite without -cf', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'vmq.passwd')
    await createFile(file, 'henry', 'pw1', false)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal(await checks(file, 'henry', 'pw1'), true)
    const before = await readFile(file, 'utf8')
    await assert.rejects(createFile(file, 'henry', 'pw2', false), {
      name: 'PasswdError', message: `File ${file} already exists. Please use -cf in case you want to overwrite the file`
    })
    assert.equal(await readFile(file, 'utf8'), before)
    await chmod(file, 0o640)
    await createFile(file, 'ida', 'pw3', true)
    assert.equal((await stat(file)).mode & 0o777, 0o640)
    const table = parsePasswordText(await readFile(file, 'utf8'), file)
    assert.deepEqual([...table.users.keys()], ['ida'])
    assert.deepEqual((await readdir(dir)).sort(), ['vmq.passwd'])
  })
})

test('setUser adds and updates users, keeps the file mode, refuses a missing file', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await assert.rejects(setUser(file, 'a', 'x'), { message: `Unable to open password file ${file}. No such file or directory.` })
    await writeFile(file, '# header\n')
    await chmod(file, 0o644)
    await setUser(file, 'a', 'x')
    await setUser(file, 'b', 'y')
    await setUser(file, 'a', 'z')
    assert.equal((await stat(file)).mode & 0o777, 0o644)
    assert.equal(await checks(file, 'a', 'z'), true)
    assert.equal(await checks(file, 'b', 'y'), true)
    const lines = (await readFile(file, 'utf8')).split('\n')
    assert.equal(lines[0], '# header')
    assert.match(lines[1], /^a:/)
    assert.deepEqual((await readdir(dir)).sort(), ['p'])
  })
})

test('setUser refuses a bad username and leaves the file untouched', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await writeFile(file, 'a:1\n')
    await assert.rejects(setUser(file, 'x:y', 'pw'), (err: Error) => err instanceof PasswdError && /':'/.test(err.message))
    assert.equal(await readFile(file, 'utf8'), 'a:1\n')
  })
})

test('an edit through a symlink rewrites the target and keeps the link', async () => {
  await inTempDir(async dir => {
    const real = join(dir, 'real.passwd')
    const link = join(dir, 'link.passwd')
    await writeFile(real, '')
    await symlink(real, link)
    await setUser(link, 'a', 'x')
    assert.equal((await lstat(link)).isSymbolicLink(), true)
    assert.equal(await checks(real, 'a', 'x'), true)
  })
})

test('deleteUser removes the user and reports an unknown one without writing', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await createFile(file, 'a', 'x', false)
    await setUser(file, 'b', 'y')
    assert.equal(await deleteUser(file, 'a'), true)
    assert.equal(await checks(file, 'a', 'x'), false)
    assert.equal(await checks(file, 'b', 'y'), true)
    const before = await stat(file)
    assert.equal(await deleteUser(file, 'nobody'), false)
    assert.equal((await stat(file)).ino, before.ino)
  })
})

test('hashPlainPasswords rewrites plain lines in place of the file', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await writeFile(file, 'a:x\nb:$6$AAECAwQFBgcICQoL$JqsxEv/ucyxjA5DKsQ+Y8CDWaQDNQI9FpAkmfwAqWfwZLk/JEGgM0EpylrJHAZKKyFQjJeZ3nFaHjPzOzPPmPw==\n', { mode: 0o600 })
    const warnings = await hashPlainPasswords(file)
    assert.deepEqual(warnings, [`Warning: ${file}:2: password of user b is already hashed; line left unchanged.`])
    assert.equal(await checks(file, 'a', 'x'), true)
    assert.equal(await checks(file, 'b', 'secret'), true)
  })
})

test('20 concurrent setUser calls on one file all land', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await writeFile(file, '')
    await Promise.all(Array.from({ length: 20 }, async (_, i) => await setUser(file, `user${i}`, `pw${i}`)))
    const table = parsePasswordText(await readFile(file, 'utf8'), file)
    assert.deepEqual(table.problems, [])
    assert.equal(table.users.size, 20)
    assert.deepEqual((await readdir(dir)).sort(), ['p'])
  })
})

test('creating a file in a missing directory says which file could not be written', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'missing', 'p')
    await assert.rejects(createFile(file, 'a', 'x', false), {
      name: 'PasswdError', message: `Unable to write password file ${file}. No such file or directory.`
    })
  })
})

test('setUser refuses a password file that is not a regular file (/dev/zero was read forever)', async () => {
  await assert.rejects(setUser('/dev/zero', 'a', 'x'), { message: 'Unable to open password file /dev/zero. Not a regular file.' })
})
