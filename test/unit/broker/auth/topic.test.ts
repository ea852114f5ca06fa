import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { aclMatch, hasPlaceholder, splitLevels, substitute, validateFilter, validateTopicName } from '../../../../src/broker/auth/topic.js'

function covers (acl: string, input: string): boolean {
  return aclMatch(splitLevels(input), splitLevels(acl))
}

describe('aclMatch (vmq_topic:match)', () => {
  const table: Array<[acl: string, input: string, expected: boolean, why: string]> = [
    ['a/b', 'a/b', true, 'equal levels'],
    ['a/b', 'a/c', false, 'different level'],
    ['a/b', 'a', false, 'input shorter'],
    ['a', 'a/b', false, 'input longer'],
    ['a/+', 'a/+', true, 'literal + input level equals ACL +'],
    ['a/#', 'a/#', true, 'literal # input level equals ACL #'],
    ['a/+', 'a/x', true, '+ matches one level'],
    ['a/+', 'a/', true, '+ matches an empty level'],
    ['a/+', 'a/x/y', false, '+ matches exactly one level'],
    ['a/+', 'a', false, '+ needs a level'],
    ['a/+', 'a/#', true, 'ACL + covers an input # (the permissive quirk)'],
    ['+', '#', true, 'ACL + covers a bare #'],
    ['+', '+', true, 'ACL + covers a bare +'],
    ['a/+/c', 'a/#', false, 'ACL has a level left over'],
    ['a/+/c', 'a/+/c', true, '+ covers + in the middle'],
    ['a/b', 'a/+', false, 'a literal ACL level does not cover +'],
    ['a/b', 'a/#', false, 'a literal ACL level does not cover #'],
    ['a/#', 'a', true, '# matches zero levels'],
    ['a/#', 'a/b/c/d', true, '# matches the rest'],
    ['a/#', 'a/+/c', true, '# covers a filter with +'],
    ['a/#', 'a/#', true, '# covers #'],
    ['a/#', 'b', false, 'different first level'],
    ['#', 'x/y/z', true, '# covers everything'],
    ['#', '#', true, '# covers #'],
    ['#', '+/+', true, '# covers +/+'],
    ['#', '$SYS/broker/uptime', true, '$ topics are not special'],
    ['+/broker/uptime', '$SYS/broker/uptime', true, '+ matches a $ level'],
    ['#', '$share/g/a/b', true, '# covers shared subscriptions'],
    ['a/b', '$share/g/a/b', false, 'the $share prefix is part of the topic'],
    ['$share/+/a/b', '$share/g/a/b', true, 'a $share rule with + group'],
    ['/a', '/a', true, 'leading empty level'],
    ['+/a', '/a', true, '+ matches the leading empty level'],
    ['a', '/a', false, 'leading / is a distinct topic']
  ]
  for (const [acl, input, expected, why] of table) {
    test(`ACL '${acl}' ${expected ? 'covers' : 'does not cover'} '${input}' (${why})`, () => {
      assert.equal(covers(acl, input), expected)
    })
  }
})

describe('validateFilter', () => {
  test('accepts well formed filters and returns their levels', () => {
    assert.deepEqual(validateFilter('a/+/#'), { ok: true, levels: ['a', '+', '#'] })
    assert.deepEqual(validateFilter('#'), { ok: true, levels: ['#'] })
    assert.deepEqual(validateFilter('a//b/'), { ok: true, levels: ['a', '', 'b', ''] })
    assert.deepEqual(validateFilter('$share/g/a'), { ok: true, levels: ['$share', 'g', 'a'] })
    assert.deepEqual(validateFilter('w x/y'), { ok: true, levels: ['w x', 'y'] })
    assert.deepEqual(validateFilter('é/日本'), { ok: true, levels: ['é', '日本'] })
  })
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['a/#/b', /'#' must be the last level/],
    ['a#', /'#' must be a whole level/],
    ['a/b+', /'\+' must be a whole level/],
    ['+a/b', /'\+' must be a whole level/],
    ['a\u0000b', /NUL/],
    ['a/\uD800', /UTF-8/],
    ['$share/g', /needs \$share\/<group>\/<filter>/],
    ['$share', /needs \$share/],
    ['x'.repeat(65536), /longer than 65535 bytes/]
  ]
  for (const [filter, reason] of bad) {
    test(`refuses ${JSON.stringify(filter.slice(0, 20))}`, () => {
      const r = validateFilter(filter)
      assert.equal(r.ok, false)
      if (!r.ok) assert.match(r.reason, reason)
    })
  }
  test('honours the maximum depth', () => {
    assert.equal(validateFilter('a/b/c', 3).ok, true)
    const r = validateFilter('a/b/c/d', 3)
    assert.equal(r.ok, false)
    if (!r.ok) assert.match(r.reason, /4 levels, more than the maximum of 3/)
  })
})

describe('validateTopicName', () => {
  test('refuses wildcards, accepts plain names', () => {
    assert.equal(validateTopicName('a/b').ok, true)
    assert.equal(validateTopicName('a/+').ok, false)
    assert.equal(validateTopicName('a/#').ok, false)
    assert.equal(validateTopicName('a/b/c', 2).ok, false)
  })
})

describe('substitute', () => {
  const john = { u: 'john', c: 'dev-1', m: 'mp' }
  test('replaces whole-level placeholders', () => {
    assert.deepEqual(substitute(['a', '%u', '%c', '%m', '#'], john), ['a', 'john', 'dev-1', 'mp', '#'])
  })
  test('leaves placeholders inside a level alone', () => {
    assert.deepEqual(substitute(['a', 'x%u', '%c%u', '%%u'], john), ['a', 'x%u', '%c%u', '%%u'])
  })
  test('an empty mountpoint becomes an empty level', () => {
    assert.deepEqual(substitute(['%m', 'a'], { u: 'john', c: 'c', m: '' }), ['', 'a'])
  })
  test('a %u rule never applies to an anonymous client; %c and %m still do', () => {
    assert.equal(substitute(['a', '%u'], { u: undefined, c: 'c', m: '' }), undefined)
    assert.deepEqual(substitute(['a', '%c'], { u: undefined, c: 'c', m: '' }), ['a', 'c'])
  })
  test('a value that would act as a wildcard or span levels makes the rule not apply', () => {
    assert.equal(substitute(['clients', '%c', '#'], { u: 'u', c: '#', m: '' }), undefined)
    assert.equal(substitute(['clients', '%c'], { u: 'u', c: '+', m: '' }), undefined)
    assert.equal(substitute(['users', '%u'], { u: 'a/b', c: 'c', m: '' }), undefined)
  })
  test('hasPlaceholder sees only whole levels', () => {
    assert.equal(hasPlaceholder(['a', '%u']), true)
    assert.equal(hasPlaceholder(['%m']), true)
    assert.equal(hasPlaceholder(['a', 'x%u']), false)
  })
})
