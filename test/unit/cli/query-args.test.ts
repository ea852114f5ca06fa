import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseQueryArgs } from '../../../src/cli/query-args.js'

describe('parseQueryArgs', () => {
  it('bare flags are fields, --flag=value are filters', () => {
    const args = parseQueryArgs(['--client_id', '--user=bob', '--topic', '--mountpoint='])
    assert.deepEqual(args.fields, ['client_id', 'topic'])
    assert.deepEqual(args.filters, [{ field: 'user', value: 'bob' }, { field: 'mountpoint', value: '' }])
    assert.equal(args.format, 'human')
    assert.equal(args.limit, undefined)
  })

  it('--node is the field, a filter, or the node to ask when given host:port', () => {
    assert.deepEqual(parseQueryArgs(['--node', '--user']).fields, ['node', 'user'])
    assert.deepEqual(parseQueryArgs(['--node=VerneMQ@10.0.0.1']).filters, [{ field: 'node', value: 'VerneMQ@10.0.0.1' }])
    assert.equal(parseQueryArgs(['--node=127.0.0.1:44053']).target.node, '127.0.0.1:44053')
    const both = parseQueryArgs(['--node', '--node', '127.0.0.1:1'])
    assert.deepEqual(both.fields, ['node'])
    assert.equal(both.target.node, '127.0.0.1:1')
    assert.equal(parseQueryArgs(['-n', 'h:2']).target.node, 'h:2')
  })

  it('reads --limit, --format, --rowtimeout, -c and --cookie in both spellings', () => {
    const args = parseQueryArgs(['--limit', '5', '--format=json', '--rowtimeout=100', '-c', 'x.conf', '--cookie=k'])
    assert.equal(args.limit, 5)
    assert.equal(args.format, 'json')
    assert.deepEqual(args.target, { config: 'x.conf', cookie: 'k' })
    assert.equal(parseQueryArgs(['--limit=7']).limit, 7)
  })

  it('takes the TLS target flags: --secure and the --tls-* files in both spellings', () => {
    const args = parseQueryArgs(['--secure', '--tls-cafile', 'ca.pem', '--tls-certfile=me.pem', '--tls-keyfile', 'me.key', '--client_id'])
    assert.deepEqual(args.target, { secure: true, 'tls-cafile': 'ca.pem', 'tls-certfile': 'me.pem', 'tls-keyfile': 'me.key' })
    assert.deepEqual(args.fields, ['client_id'])
  })

  it('refuses bad values and stray arguments with one clear line', () => {
    assert.throws(() => parseQueryArgs(['--limit=0']), /Invalid --limit=0: expected a positive integer/)
    assert.throws(() => parseQueryArgs(['--format=xml']), /Invalid --format=xml: expected human or json/)
    assert.throws(() => parseQueryArgs(['client_id']), /Unexpected argument "client_id"/)
    assert.throws(() => parseQueryArgs(['--limit']), /Flag --limit expects a value/)
  })
})
