import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { allowsPublish, allowsSubscribe, bindAcls, MAX_PAYLOAD_SIZE, parseRecord, redisKey, type RedisAcl, type RedisRecord } from '../../../../src/broker/auth/redis-acl.js'

const HASH = '$2b$04$FQPiGUnAiUaQpe8sEmYNlOir/JglsC6UKUYTiNRUcyoUPgKvxVncy'
const ALICE = { u: 'alice', c: 'dev-1', m: '' }

function record (value: Record<string, unknown>): RedisRecord {
  const parsed = parseRecord(JSON.stringify({ passhash: HASH, ...value }))
  if ('error' in parsed) throw new Error(parsed.error)
  return parsed
}

function errorOf (text: string): string {
  const parsed = parseRecord(text)
  assert.ok('error' in parsed, `expected ${text} to be refused`)
  return parsed.error
}

function publishAcls (acls: unknown[], values = ALICE): RedisAcl[] {
  return bindAcls(record({ publish_acl: acls }).publish, values)
}

function subscribeAcls (acls: unknown[], values = ALICE): RedisAcl[] {
  return bindAcls(record({ subscribe_acl: acls }).subscribe, values)
}

const pub = (topic: string, extra: Partial<{ qos: 0 | 1 | 2, retain: boolean, payloadSize: number }> = {}): { topic: string, qos: 0 | 1 | 2, retain: boolean, payloadSize: number } =>
  ({ topic, qos: 0, retain: false, payloadSize: 1, ...extra })

describe('redis key', () => {
  it('is the compact JSON array [mountpoint, client_id, username]', () => {
    assert.equal(redisKey('', 'test-client', 'test-user'), '["","test-client","test-user"]')
    assert.equal(redisKey('mp', '*', 'a"b'), '["mp","*","a\\"b"]')
  })
})

describe('parsing the Redis value', () => {
  it('accepts $2a$, $2b$ and $2y$ hashes and defaults the ACL limits', () => {
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const parsed = parseRecord(JSON.stringify({ passhash: prefix + HASH.slice(4), publish_acl: [{ pattern: 'a/#' }] }))
      assert.ok(!('error' in parsed), prefix)
      assert.deepEqual(parsed.publish, [{ pattern: ['a', '#'], maxQos: 2, maxPayloadSize: MAX_PAYLOAD_SIZE, allowedRetain: true }])
      assert.deepEqual(parsed.subscribe, [])
    }
  })

  it('treats a missing or null ACL list as empty', () => {
    const r = record({ publish_acl: null })
    assert.deepEqual([r.publish, r.subscribe], [[], []])
  })

  it('refuses what cannot be used, saying what is wrong', () => {
    assert.match(errorOf('{"passhash":'), /not valid JSON/)
    assert.match(errorOf('[1]'), /an array, expected a JSON object/)
    assert.match(errorOf('{}'), /no passhash/)
    assert.match(errorOf('{"passhash":5}'), /passhash is the number 5/)
    assert.match(errorOf('{"passhash":"secret"}'), /not a bcrypt hash/)
    assert.match(errorOf('{"passhash":"$2b$04$short"}'), /malformed bcrypt hash/)
    assert.match(errorOf('{"passhash":"$6$AAAA$BBBB"}'), /not a bcrypt hash/)
    const bad = (extra: object): string => errorOf(JSON.stringify({ passhash: HASH, ...extra }))
    assert.match(bad({ publish_acl: { pattern: 'a' } }), /publish_acl is an object, expected an array/)
    assert.match(bad({ subscribe_acl: ['a/b'] }), /subscribe_acl\[0\] is the string "a\/b", expected an object/)
    assert.match(bad({ publish_acl: [{ pattern: 7 }] }), /publish_acl\[0\]\.pattern is the number 7/)
    assert.match(bad({ publish_acl: [{ pattern: 'a', max_qos: 3 }] }), /max_qos is the number 3, expected 0, 1 or 2/)
    assert.match(bad({ publish_acl: [{ pattern: 'a', max_qos: '1' }] }), /max_qos is the string "1"/)
    assert.match(bad({ publish_acl: [{ pattern: 'a', max_payload_size: -1 }] }), /max_payload_size/)
    assert.match(bad({ publish_acl: [{ pattern: 'a', max_payload_size: MAX_PAYLOAD_SIZE + 1 }] }), /max_payload_size/)
    assert.match(bad({ publish_acl: [{ pattern: 'a', allowed_retain: 'yes' }] }), /allowed_retain is the string "yes", expected true or false/)
    assert.match(bad({ publish_acl: [{ pattern: 'a', modifiers: 'x' }] }), /modifiers is the string "x"/)
  })

  it('notes, but accepts, unknown fields, unusable patterns and modifiers; those ACLs never match', () => {
    const r = record({
      publish_acl: [{ pattern: 'a', colour: 'red' }, { pattern: 'a/#/b' }, { max_qos: 1 }, { pattern: 'm', modifiers: { topic: 'x' } }],
      subscribe_acl: [{ pattern: 's', max_payload_size: 5, allowed_retain: false }, { pattern: 't', modifiers: [] }]
    })
    assert.deepEqual(r.notes, [
      "publish_acl[0]: unknown field 'colour' ignored",
      "publish_acl[1]: pattern 'a/#/b' is not a valid topic filter ('#' must be the last level in 'a/#/b'); this ACL never matches",
      'publish_acl[2]: no pattern; this ACL never matches',
      'publish_acl[3]: modifiers are not supported; this ACL is never used',
      "subscribe_acl[0]: unknown field 'max_payload_size' ignored",
      "subscribe_acl[0]: unknown field 'allowed_retain' ignored"
    ])
    const acls = bindAcls(r.publish, ALICE)
    assert.equal(allowsPublish(acls, pub('a')), true)
    assert.equal(allowsPublish(acls, pub('a/x/b')), false)
    assert.equal(allowsPublish(acls, pub('m')), false)
    const subs = bindAcls(r.subscribe, ALICE)
    assert.equal(allowsSubscribe(subs, { topic: 't', qos: 2 }), true, 'empty modifiers change nothing')
  })
})

describe('publish ACLs', () => {
  it('allows when the first ACL whose limits hold matches; nothing matching → denied', () => {
    const acls = publishAcls([
      { pattern: 'limited/#', max_qos: 1, allowed_retain: false, max_payload_size: 5 },
      { pattern: 'open/+' }
    ])
    assert.equal(allowsPublish(acls, pub('limited/a', { qos: 1, payloadSize: 5 })), true)
    assert.equal(allowsPublish(acls, pub('limited/a', { qos: 2 })), false, 'qos above max_qos')
    assert.equal(allowsPublish(acls, pub('limited/a', { retain: true })), false, 'retain not allowed')
    assert.equal(allowsPublish(acls, pub('limited/a', { payloadSize: 6 })), false, 'payload too large')
    assert.equal(allowsPublish(acls, pub('limited', { payloadSize: 0 })), true, 'a/# covers a')
    assert.equal(allowsPublish(acls, pub('open/x', { qos: 2, retain: true, payloadSize: 1000 })), true)
    assert.equal(allowsPublish(acls, pub('open/x/y')), false)
    assert.equal(allowsPublish(acls, pub('elsewhere')), false)
    assert.equal(allowsPublish([], pub('a')), false, 'no ACLs, no publish')
  })

  it('a later ACL may allow what an earlier one limits', () => {
    const acls = publishAcls([{ pattern: 'a/#', max_qos: 0 }, { pattern: 'a/b', max_qos: 2 }])
    assert.equal(allowsPublish(acls, pub('a/b', { qos: 2 })), true)
    assert.equal(allowsPublish(acls, pub('a/c', { qos: 2 })), false)
  })

  it('substitutes %u %c %m when they are whole levels', () => {
    const acls = publishAcls([{ pattern: 'u/%u/c/%c' }, { pattern: 'x%u' }, { pattern: '%m/m' }], { u: 'alice', c: 'dev-1', m: 'mp' })
    assert.equal(allowsPublish(acls, pub('u/alice/c/dev-1')), true)
    assert.equal(allowsPublish(acls, pub('u/bob/c/dev-1')), false)
    assert.equal(allowsPublish(acls, pub('xalice')), false)
    assert.equal(allowsPublish(acls, pub('x%u')), true, 'a partial placeholder is literal')
    assert.equal(allowsPublish(acls, pub('mp/m')), true)
  })

  it('an ACL whose placeholder would act as a wildcard never matches', () => {
    const acls = publishAcls([{ pattern: 'c/%c' }], { u: 'alice', c: '#', m: '' })
    assert.equal(allowsPublish(acls, pub('c/anything')), false)
    assert.equal(allowsPublish(acls, pub('c/#')), false)
  })
})

describe('subscribe ACLs', () => {
  it('checks max_qos and the pattern, with the + vs # rule of vmq_acl', () => {
    const acls = subscribeAcls([{ pattern: 'a/+', max_qos: 1 }, { pattern: 'users/%u/#' }])
    assert.equal(allowsSubscribe(acls, { topic: 'a/x', qos: 1 }), true)
    assert.equal(allowsSubscribe(acls, { topic: 'a/x', qos: 2 }), false)
    assert.equal(allowsSubscribe(acls, { topic: 'a/#', qos: 0 }), true, 'ACL + covers an input #')
    assert.equal(allowsSubscribe(acls, { topic: 'a/x/y', qos: 0 }), false)
    assert.equal(allowsSubscribe(acls, { topic: 'users/alice/inbox', qos: 2 }), true)
    assert.equal(allowsSubscribe(acls, { topic: 'users/alice', qos: 2 }), true)
    assert.equal(allowsSubscribe(acls, { topic: 'users/bob/inbox', qos: 0 }), false)
    assert.equal(allowsSubscribe(acls, { topic: 'users/+/inbox', qos: 0 }), false)
    assert.equal(allowsSubscribe(acls, { topic: '', qos: 0 }), false)
  })

  it('shared subscriptions must match with their $share prefix', () => {
    const acls = subscribeAcls([{ pattern: '$share/g/jobs/#' }, { pattern: 'plain/#' }])
    assert.equal(allowsSubscribe(acls, { topic: '$share/g/jobs/1', qos: 0 }), true)
    assert.equal(allowsSubscribe(acls, { topic: '$share/g/plain/1', qos: 0 }), false)
  })
})
