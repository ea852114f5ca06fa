import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseAcl } from '../../../../src/broker/auth/acl-file.js'
import { formatProblem } from '../../../../src/broker/auth/types.js'

const joined = (rules: string[][]): string[] => rules.map(r => r.join('/'))

describe('parseAcl: the VerneMQ grammar', () => {
  test('sections, access keywords and patterns', () => {
    const acl = parseAcl([
      '# comment',
      'topic a/b',
      'topic read r/#',
      'topic write w/+',
      'user john',
      'topic j',
      'topic read jr',
      'pattern read p/%u/#',
      'user mary',
      'topic write mw',
      'pattern write q/%c',
      'pattern both/%m'
    ].join('\n'), 'vmq.acl')
    assert.deepEqual(acl.problems, [])
    assert.deepEqual(joined(acl.all.read), ['a/b', 'r/#'])
    assert.deepEqual(joined(acl.all.write), ['a/b', 'w/+'])
    assert.deepEqual([...acl.users.keys()], ['john', 'mary'])
    assert.deepEqual(joined(acl.users.get('john')!.read), ['j', 'jr'])
    assert.deepEqual(joined(acl.users.get('john')!.write), ['j'])
    assert.deepEqual(joined(acl.users.get('mary')!.read), [])
    assert.deepEqual(joined(acl.users.get('mary')!.write), ['mw'])
    assert.deepEqual(joined(acl.patterns.read), ['p/%u/#', 'both/%m'])
    assert.deepEqual(joined(acl.patterns.write), ['q/%c', 'both/%m'])
  })

  test('inner spaces belong to the topic; outer spaces and tabs are trimmed', () => {
    const acl = parseAcl('topic write v/w x/y \t\ntopic\t a b ', 'f')
    assert.deepEqual(acl.all.write, [['v', 'w x', 'y'], ['a b']])
    assert.deepEqual(acl.all.read, [['a b']])
  })

  test('a user section seen twice gathers both parts; names are trimmed and case-sensitive', () => {
    const acl = parseAcl('user  john \t\ntopic a\nuser John\ntopic b\nuser john\ntopic c\n', 'f')
    assert.deepEqual(joined(acl.users.get('john')!.read), ['a', 'c'])
    assert.deepEqual(joined(acl.users.get('John')!.read), ['b'])
  })

  test('duplicate rules are kept once', () => {
    const acl = parseAcl('topic a\ntopic a\ntopic read a\n', 'f')
    assert.deepEqual(joined(acl.all.read), ['a'])
    assert.deepEqual(joined(acl.all.write), ['a'])
  })
})

describe('parseAcl: tolerant where VerneMQ crashes', () => {
  test('blank lines, whitespace-only lines, CRLF, BOM and indentation are ignored', () => {
    const text = '\uFEFFtopic a\r\n\r\n   \r\n\t\n  topic read b\r\n\tuser john\r\n  topic c\r\n'
    const acl = parseAcl(text, 'f')
    assert.deepEqual(acl.problems, [])
    assert.deepEqual(joined(acl.all.read), ['a', 'b'])
    assert.deepEqual(joined(acl.all.write), ['a'])
    assert.deepEqual(joined(acl.users.get('john')!.read), ['c'])
  })

  test('extra spaces between keywords: `topic  read a` is a read rule on `a` (VerneMQ: topic `read a`)', () => {
    const acl = parseAcl('topic  read a\ntopic\twrite  b\npattern   read   c/%u', 'f')
    assert.deepEqual(acl.problems, [])
    assert.deepEqual(joined(acl.all.read), ['a'])
    assert.deepEqual(joined(acl.all.write), ['b'])
    assert.deepEqual(joined(acl.patterns.read), ['c/%u'])
  })

  test('three bad lines are all reported as file:line and the good rules are kept', () => {
    const text = [
      'topic ok/1', //        1
      'deny x', //            2 bad
      'topic ok/2', //        3
      'topic a/#/b', //       4 bad
      '', //                  5
      'user john', //         6
      'topic', //             7 bad
      'topic ok/3' //         8
    ].join('\n')
    const acl = parseAcl(text, '/etc/vernemq/vmq.acl')
    assert.deepEqual(acl.problems.map(p => p.line), [2, 4, 7])
    const lines = acl.problems.map(formatProblem)
    assert.match(lines[0], /^\/etc\/vernemq\/vmq\.acl:2: unknown keyword 'deny'/)
    assert.match(lines[1], /^\/etc\/vernemq\/vmq\.acl:4: invalid topic filter: '#' must be the last level/)
    assert.match(lines[2], /^\/etc\/vernemq\/vmq\.acl:7: topic: a topic filter is missing/)
    assert.deepEqual(joined(acl.all.read), ['ok/1', 'ok/2'])
    assert.deepEqual(joined(acl.users.get('john')!.read), ['ok/3'])
  })

  test('mosquitto-style access keywords are reported, not read as a topic', () => {
    const acl = parseAcl('topic readwrite a/b\ntopic deny c\nreadwrite d\npattern deny e', 'f')
    assert.deepEqual(acl.problems.map(formatProblem), [
      "f:1: topic: 'readwrite' is not a vmq_acl access; leave it out to grant read and write",
      "f:2: topic: 'deny' is not supported: vmq_acl rules only grant access",
      "f:3: unknown keyword 'readwrite' (expected topic, user, pattern or a # comment)",
      "f:4: pattern: 'deny' is not supported: vmq_acl rules only grant access"
    ])
    assert.deepEqual(acl.all.read, [])
    assert.deepEqual(acl.patterns.read, [])
  })

  test('`topic read` with no filter is reported', () => {
    const acl = parseAcl('topic read\ntopic write   ', 'f')
    assert.deepEqual(acl.problems.map(formatProblem), [
      "f:1: topic: 'read' needs a topic filter after it",
      "f:2: topic: 'write' needs a topic filter after it"
    ])
  })

  test('keywords are case-sensitive', () => {
    const acl = parseAcl('Topic a', 'f')
    assert.deepEqual(acl.problems.map(formatProblem), ["f:1: unknown keyword 'Topic' (expected topic, user, pattern or a # comment)"])
  })

  test('rules after a broken user line go nowhere, not into the section before it', () => {
    const acl = parseAcl('topic all\nusers john\ntopic secret\nuser\ntopic secret2\nuser mary\ntopic m', 'f')
    assert.deepEqual(acl.problems.map(p => p.line), [2, 4])
    assert.match(formatProblem(acl.problems[0]), /^f:2: unknown keyword 'users' \(did you mean 'user'\?\); the topic rules up to the next 'user' line are ignored/)
    assert.match(formatProblem(acl.problems[1]), /^f:4: 'user' needs a user name/)
    assert.deepEqual(joined(acl.all.read), ['all'])
    assert.deepEqual([...acl.users.keys()], ['mary'])
  })

  test('filters deeper than the maximum depth are reported', () => {
    const acl = parseAcl('topic a/b/c\ntopic a/b', 'f', { maxDepth: 2 })
    assert.deepEqual(acl.problems.map(formatProblem), ["f:1: invalid topic filter: 'a/b/c' has 3 levels, more than the maximum of 2"])
    assert.deepEqual(joined(acl.all.read), ['a/b'])
  })

  test('a line that is not valid UTF-8 is reported and the others are kept', () => {
    const content = Buffer.concat([Buffer.from('topic a\ntopic '), Buffer.from([0xff, 0xfe]), Buffer.from('\ntopic é\n')])
    const acl = parseAcl(content, 'f')
    assert.deepEqual(acl.problems.map(formatProblem), ['f:2: line is not valid UTF-8'])
    assert.deepEqual(joined(acl.all.read), ['a', 'é'])
  })
})
