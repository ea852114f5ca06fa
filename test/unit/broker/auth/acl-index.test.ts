import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AclIndex } from '../../../../src/broker/auth/acl-index.js'
import { aclMatch, aclMatchTopic, splitLevels, substitute, type Substitutions } from '../../../../src/broker/auth/topic.js'

// A small deterministic generator, so a failure can be replayed.
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const WORDS = ['a', 'b', '', '$SYS', '$share', 'g']
function randomFilter (next: () => number, extra: string[]): string[] {
  const depth = 1 + Math.floor(next() * 4)
  const levels: string[] = []
  for (let i = 0; i < depth; i++) {
    const r = next()
    if (r < 0.15) levels.push('+')
    else if (r < 0.25 && i === depth - 1) levels.push('#')
    else {
      const pool = [...WORDS, ...extra]
      levels.push(pool[Math.floor(next() * pool.length)])
    }
  }
  return levels
}

describe('AclIndex answers what a scan with aclMatch answers', () => {
  test('random rule sets and inputs (topics and filters)', () => {
    const next = rng(42)
    let covered = 0
    for (let round = 0; round < 300; round++) {
      const rules = Array.from({ length: Math.floor(next() * 6) }, () => randomFilter(next, []))
      const index = new AclIndex(rules)
      for (let k = 0; k < 30; k++) {
        const input = randomFilter(next, [])
        const topic = input.join('/')
        const expected = rules.some(r => aclMatch(input, r))
        if (expected) covered++
        assert.equal(index.covers(topic), expected, `rules ${JSON.stringify(rules)} input '${topic}'`)
        assert.equal(rules.some(r => aclMatchTopic(topic, r)), expected, `aclMatchTopic, rules ${JSON.stringify(rules)} input '${topic}'`)
      }
    }
    assert.ok(covered > 500 && covered < 8000, `a fair mix of covered and uncovered inputs (${covered} of 9000 covered)`)
  })

  test('pattern rules: substituted on the walk exactly as substitute() + aclMatch', () => {
    const next = rng(7)
    let covered = 0
    const clients: Substitutions[] = [
      { u: 'a', c: 'b', m: '' },
      { u: undefined, c: 'a', m: 'g' },
      { u: '+', c: '#', m: 'a' }
    ]
    for (let round = 0; round < 300; round++) {
      const rules = Array.from({ length: 1 + Math.floor(next() * 4) }, () => randomFilter(next, ['%u', '%c', '%m']))
      const index = new AclIndex(rules, true)
      for (const values of clients) {
        for (let k = 0; k < 10; k++) {
          const input = randomFilter(next, [])
          const topic = input.join('/')
          const expected = rules.some(r => {
            const s = substitute(r, values)
            return s !== undefined && aclMatch(input, s)
          })
          if (expected) covered++
          assert.equal(index.covers(topic, values), expected, `rules ${JSON.stringify(rules)} client ${JSON.stringify(values)} input '${topic}'`)
          assert.equal(rules.some(r => aclMatchTopic(topic, r, values)), expected, 'aclMatchTopic with values')
        }
      }
    }
    assert.ok(covered > 300, `enough covered inputs (${covered} of 9000)`)
  })

  test('an empty index covers nothing; size counts rules', () => {
    assert.equal(new AclIndex([]).covers('a'), false)
    assert.equal(new AclIndex([splitLevels('a/#'), splitLevels('b')]).size, 2)
  })
})
