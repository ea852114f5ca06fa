import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { compileQuery, matchesAll, project, sortRows, type QueryShape } from '../../../../src/broker/admin/query.js'
import { InvalidRequest } from '../../../../src/errors.js'

const SHAPE: QueryShape = {
  fields: ['client_id', 'is_online', 'peer_port', 'topic', 'user'],
  defaults: ['user', 'client_id'],
  sortBy: ['client_id'],
  textOnly: ['client_id', 'user'],
  matchers: { topic: (filter, value) => value === `matched:${filter}` }
}

describe('compileQuery', () => {
  it('uses the default columns without bare fields, alphabetically, and limit 100', () => {
    const q = compileQuery(SHAPE, { fields: [], filters: [{ field: 'is_online', value: 'true' }] })
    assert.deepEqual(q.columns, ['client_id', 'user'])
    assert.equal(q.limit, 100)
    assert.deepEqual(compileQuery(SHAPE, { fields: ['user', 'is_online', 'user'], limit: 3 }).columns, ['is_online', 'user'])
    assert.equal(compileQuery(SHAPE, { limit: 3 }).limit, 3)
  })

  it('refuses unknown fields, naming them and the known ones', () => {
    assert.throws(() => compileQuery(SHAPE, { fields: ['colour'], filters: [{ field: 'size', value: '1' }] }),
      (err: Error) => err instanceof InvalidRequest && err.message === 'Unknown field --colour, --size; known fields: client_id, is_online, peer_port, topic, user')
  })

  it('types filter values: booleans, integers, text-only fields, undefined, ~regex, custom matchers', () => {
    const match = (field: string, value: string, row: Record<string, string | number | boolean | null>): boolean =>
      matchesAll(compileQuery(SHAPE, { filters: [{ field, value }] }), row)
    assert.equal(match('is_online', 'true', { is_online: true }), true)
    assert.equal(match('is_online', 'true', { is_online: false }), false)
    assert.equal(match('peer_port', '1883', { peer_port: 1883 }), true)
    assert.equal(match('peer_port', '1883', { peer_port: 1884 }), false)
    assert.equal(match('client_id', '42', { client_id: '42' }), true)
    assert.equal(match('user', 'undefined', { user: null }), true)
    assert.equal(match('user', '~^se', { user: 'sensor' }), true)
    assert.equal(match('user', '~^se', { user: 'base' }), false)
    assert.equal(match('user', '~undef', { user: null }), true)
    assert.equal(match('topic', 'a/+', { topic: 'matched:a/+' }), true)
    assert.throws(() => compileQuery(SHAPE, { filters: [{ field: 'user', value: '~(' }] }), /Invalid regular expression in --user=~\(/)
  })

  it('projects rows onto the columns and sorts by the sort fields first', () => {
    const q = compileQuery(SHAPE, { fields: ['user'] })
    const rows = sortRows([{ client_id: 'b', user: 'x' }, { client_id: 'a', user: 'y' }], q.order).map(r => project(q, r))
    assert.deepEqual(rows, [{ user: 'y' }, { user: 'x' }])
  })
})
