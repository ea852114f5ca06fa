import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parsePasswdArgs, usageText } from '../../../src/passwd/args.js'

test('the vmq-passwd forms are read positionally', () => {
  assert.deepEqual(parsePasswdArgs(['-c', 'f', 'u']), { action: { kind: 'create', file: 'f', username: 'u', overwrite: false }, password: undefined })
  assert.deepEqual(parsePasswdArgs(['-cf', 'f', 'u']).action, { kind: 'create', file: 'f', username: 'u', overwrite: true })
  assert.deepEqual(parsePasswdArgs(['-D', 'f', 'u']).action, { kind: 'delete', file: 'f', username: 'u' })
  assert.deepEqual(parsePasswdArgs(['-U', 'f']).action, { kind: 'hash-plain', file: 'f' })
  assert.deepEqual(parsePasswdArgs(['f', 'u']).action, { kind: 'set', file: 'f', username: 'u' })
  assert.deepEqual(parsePasswdArgs(['f', '-odd-user']).action, { kind: 'set', file: 'f', username: '-odd-user' })
})

test('--password may stand anywhere, as two words or with =', () => {
  assert.equal(parsePasswdArgs(['--password', 'pw', '-c', 'f', 'u']).password, 'pw')
  assert.equal(parsePasswdArgs(['-c', 'f', 'u', '--password=a b']).password, 'a b')
  assert.equal(parsePasswdArgs(['f', '--password', '', 'u']).password, '')
})

test('wrong argument lists are usage errors with a reason', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /Missing arguments/],
    [['f'], /Missing arguments/],
    [['-U'], /-U needs a password file/],
    [['-U', 'f', 'u'], /-U takes only a password file/],
    [['-c', 'f'], /-c needs a password file and a username/],
    [['-x', 'f', 'u'], /Unknown option -x/],
    [['-x', 'f'], /Unknown option -x/],
    [['a', 'b', 'c'], /Too many arguments/],
    [['-c', 'f', 'u', 'v'], /Too many arguments/],
    [['-c', 'f', 'u', '--password'], /--password needs a value/],
    [['-D', 'f', 'u', '--password', 'x'], /--password is only used/],
    [['-U', 'f', '--password=x'], /--password is only used/]
  ]
  for (const [argv, message] of cases) assert.throws(() => parsePasswdArgs(argv), { name: 'UsageError', message }, argv.join(' '))
})

test('usage names the program it was called as', () => {
  assert.match(usageText('vmq-passwd'), /^Usage: vmq-passwd \[-c \| -cf \| -D\] passwordfile username\n {7}vmq-passwd -U passwordfile\n/)
})
