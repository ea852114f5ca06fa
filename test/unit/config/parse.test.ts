import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/config/parse.js'
import { envEntries } from '../../../src/config/env.js'
import { formatValue, parseValue } from '../../../src/config/values.js'

function confFile (text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vmq-conf-')), 'vernemq.conf')
  writeFileSync(file, text)
  return file
}

function problemsOf (fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n')
    throw err
  }
  assert.fail('expected a ConfigError')
}

test('values: flags, integers, durations, sizes, addresses', () => {
  assert.deepEqual(parseValue({ kind: 'flag' }, 'on'), { ok: true, value: true })
  assert.deepEqual(parseValue({ kind: 'flag' }, 'off'), { ok: true, value: false })
  assert.equal(parseValue({ kind: 'flag' }, 'maybe').ok, false)
  assert.deepEqual(parseValue({ kind: 'integer', min: 0 }, '42'), { ok: true, value: 42 })
  assert.equal(parseValue({ kind: 'integer', min: 0 }, '-1').ok, false)
  assert.deepEqual(parseValue({ kind: 'duration' }, 'never'), { ok: true, value: null })
  assert.deepEqual(parseValue({ kind: 'duration' }, '1h'), { ok: true, value: 3600 })
  assert.deepEqual(parseValue({ kind: 'duration' }, '2w'), { ok: true, value: 14 * 86400 })
  assert.deepEqual(parseValue({ kind: 'duration' }, '1y'), { ok: true, value: 365 * 86400 })
  // a duration whose "no value" word is another (max_last_will_delay = client)
  assert.deepEqual(parseValue({ kind: 'duration', none: 'client' }, 'client'), { ok: true, value: null })
  assert.deepEqual(parseValue({ kind: 'duration', none: 'client' }, '60s'), { ok: true, value: 60 })
  assert.deepEqual(parseValue({ kind: 'duration', none: 'client' }, 'never'), { ok: false, expected: 'a duration like 1h, 1d, 1w, 1m, 1y or client' })
  assert.equal(formatValue({ kind: 'duration', none: 'client' }, null), 'client')
  assert.deepEqual(parseValue({ kind: 'bytes' }, '1MB'), { ok: true, value: 1024 * 1024 })
  assert.deepEqual(parseValue({ kind: 'ipport' }, '127.0.0.1:1883'), { ok: true, value: '127.0.0.1:1883' })
  assert.equal(parseValue({ kind: 'ipport' }, '127.0.0.1:99999').ok, false)
  assert.deepEqual(parseValue({ kind: 'string' }, '"quoted value"'), { ok: true, value: 'quoted value' })
})

test('a file: comments, blank lines, spaces around =, defaults for omitted keys', () => {
  const config = loadConfig({ file: confFile('# comment\n\nallow_anonymous=on\n  max_inflight_messages   =   5  \nlistener.tcp.default = 127.0.0.1:1999\n') })
  assert.equal(config.values.get('allow_anonymous'), true)
  assert.equal(config.values.get('max_inflight_messages'), 5)
  assert.equal(config.values.get('max_client_id_size'), 23)
  assert.equal(config.values.get('nodename'), 'VerneMQ@127.0.0.1')
  assert.deepEqual(config.listeners.map(l => `${l.type}.${l.name}=${l.host}:${l.port}`), ['tcp.default=127.0.0.1:1999', 'vmq.clustering=127.0.0.1:44053'])
})

test('without -c the embedded development config allows anonymous clients', () => {
  const config = loadConfig({})
  assert.equal(config.values.get('allow_anonymous'), true)
  assert.deepEqual(config.listeners.map(l => `${l.type}.${l.name}`).sort(), ['http.default', 'tcp.default', 'vmq.clustering', 'ws.default'])
})

test('with -c allow_anonymous defaults to off', () => {
  assert.equal(loadConfig({ file: confFile('') }).values.get('allow_anonymous'), false)
})

test('every problem of a file is reported with file:line and key', () => {
  const file = confFile('allow_anonymous = maybe\nnodename = a@b\nmax_inflight_mesages = 3\n\nlistener.tcp.default = 127.0.0.1:notaport\n')
  const problems = problemsOf(() => loadConfig({ file }))
  assert.deepEqual(problems, [
    `${file}:1: allow_anonymous: invalid value "maybe", expected on or off`,
    `${file}:3: max_inflight_mesages: unknown key (did you mean "max_inflight_messages"?)`,
    `${file}:5: listener.tcp.default: invalid value "127.0.0.1:notaport", expected an address as ip:port (or off)`
  ])
})

test('a line without = is a problem', () => {
  const file = confFile('allow_anonymous on\n')
  assert.deepEqual(problemsOf(() => loadConfig({ file })), [`${file}:1: expected "key = value", got "allow_anonymous on"`])
})

test('a missing file is reported by name', () => {
  assert.deepEqual(problemsOf(() => loadConfig({ file: '/no/such/vernemq.conf' })), ['/no/such/vernemq.conf: cannot read config file: no such file'])
})

test('listener options: the most specific scope wins', () => {
  const config = loadConfig({
    file: confFile([
      'listener.max_connections = 100',
      'listener.tcp.max_connections = 50',
      'listener.tcp.a = 127.0.0.1:1001',
      'listener.tcp.b = 127.0.0.1:1002',
      'listener.tcp.b.max_connections = 7',
      'listener.ws.c = 127.0.0.1:1003',
      'listener.tcp.a.mountpoint = site/a/',
      'listener.tcp.allowed_protocol_versions = 4,5'
    ].join('\n'))
  })
  const byName = new Map(config.listeners.map(l => [l.name, l.options]))
  assert.equal(byName.get('a')?.get('max_connections'), 50)
  assert.equal(byName.get('b')?.get('max_connections'), 7)
  assert.equal(byName.get('c')?.get('max_connections'), 100)
  assert.equal(byName.get('a')?.get('mountpoint'), 'site/a/')
  assert.equal(byName.get('c')?.get('mountpoint'), '')
  assert.equal(byName.get('a')?.get('allowed_protocol_versions'), '4,5')
  assert.equal(byName.get('c')?.get('allowed_protocol_versions'), '3,4,5')
})

test('an unknown listener option or type is a problem with a suggestion', () => {
  const file = confFile('listener.tcp.default.max_conections = 3\nlistener.tpc.default = 127.0.0.1:1\n')
  const problems = problemsOf(() => loadConfig({ file }))
  assert.equal(problems.length, 2)
  assert.match(problems[0], /:1: listener.tcp.default.max_conections: unknown listener option "max_conections" \(did you mean "max_connections"\?\)/)
  assert.match(problems[1], /:2: listener.tpc.default: unknown listener type "tpc"/)
})

test('VerneMQ-only keys are accepted with a warning', () => {
  const config = loadConfig({ file: confFile('erlang.async_threads = 64\nleveldb.maximum_memory.percent = 20\n') })
  assert.equal(config.warnings.length, 2)
  assert.match(config.warnings[0], /erlang.async_threads is a VerneMQ setting vmq-ts does not use; ignored/)
})

test('a key or listener option without effect is accepted with one warning naming file, line and key', () => {
  const config = loadConfig({ file: confFile('coordinate_registrations = on\nlistener.tcp.default.nr_of_acceptors = 5\nretry_interval = 5\n') })
  assert.equal(config.warnings.length, 2)
  assert.match(config.warnings[0], /:1: coordinate_registrations has no effect in vmq-ts yet; the value is accepted and not used$/)
  assert.match(config.warnings[1], /:2: listener.tcp.default.nr_of_acceptors has no effect in vmq-ts yet; the value is accepted and not used$/)
})

test('DOCKER_VERNEMQ_* variables map to keys and override the file', () => {
  assert.deepEqual(envEntries({ DOCKER_VERNEMQ_ALLOW_ANONYMOUS: 'on' }).map(e => [e.key, e.value]), [['allow_anonymous', 'on']])
  assert.deepEqual(envEntries({ DOCKER_VERNEMQ_LOG__CONSOLE__LEVEL: 'debug' }).map(e => [e.key, e.value]), [['log.console.level', 'debug']])
  assert.deepEqual(envEntries({ DOCKER_VERNEMQ_VMQ_WEBHOOKS__POOL_timeout: '6000' }).map(e => e.key), ['vmq_webhooks.pool_timeout'])
  assert.deepEqual(envEntries({ DOCKER_VERNEMQ_DISCOVERY_NODE: '10.0.0.1' }).map(e => [e.key, e.value]), [['discovery_node', '10.0.0.1']])
  assert.deepEqual(envEntries({ DOCKER_VERNEMQ_NODENAME: '10.0.0.2' }).map(e => [e.key, e.value]), [['nodename', 'VerneMQ@10.0.0.2']])
  assert.deepEqual(envEntries({ DOCKER_VERNEMQ_KUBERNETES_LABEL_SELECTOR: 'app=vernemq', PATH: '/bin' }), [])
  const config = loadConfig({ file: confFile('allow_anonymous = off\n'), env: { DOCKER_VERNEMQ_ALLOW_ANONYMOUS: 'on' } })
  assert.equal(config.values.get('allow_anonymous'), true)
})

test('a bad DOCKER_VERNEMQ_* value names the variable', () => {
  assert.deepEqual(problemsOf(() => loadConfig({ env: { DOCKER_VERNEMQ_MAX_INFLIGHT_MESSAGES: 'many' } })), [
    'environment DOCKER_VERNEMQ_MAX_INFLIGHT_MESSAGES: max_inflight_messages: invalid value "many", expected an integer >= 0'
  ])
})

test('--set overrides the environment and the file', () => {
  const config = loadConfig({ file: confFile('max_inflight_messages = 1\n'), env: { DOCKER_VERNEMQ_MAX_INFLIGHT_MESSAGES: '2' }, sets: ['max_inflight_messages=3'] })
  assert.equal(config.values.get('max_inflight_messages'), 3)
})

test('message_size_limit is the old name of max_message_size', () => {
  assert.equal(loadConfig({ file: confFile('message_size_limit = 1024\n') }).values.get('max_message_size'), 1024)
})

test('a lone CR (old Mac files) and CRLF end lines like LF', () => {
  const config = loadConfig({ file: confFile('nodename = a@127.0.0.1\rdistributed_cookie = s3cret\r\nmax_inflight_messages = 7\nretry_interval = 9\r') })
  assert.equal(config.values.get('nodename'), 'a@127.0.0.1')
  assert.equal(config.values.get('distributed_cookie'), 's3cret')
  assert.equal(config.values.get('max_inflight_messages'), 7)
  assert.equal(config.values.get('retry_interval'), 9)
})

test('a key given twice in one file is refused with both lines (an alias counts as the key)', () => {
  const file = confFile('max_inflight_messages = 1\n# note\nmax_inflight_messages = 2\nmax_message_size = 10\nmessage_size_limit = 20\n')
  assert.deepEqual(problemsOf(() => loadConfig({ file })), [
    `${file}:3: max_inflight_messages: given twice (first at line 1)`,
    `${file}:5: message_size_limit: given twice (first at line 4)`
  ])
})

test('an empty distributed_cookie is refused, whether in the file, the environment or --set', () => {
  const file = confFile('nodename = a@127.0.0.1\ndistributed_cookie =\n')
  assert.deepEqual(problemsOf(() => loadConfig({ file })), [
    `${file}:2: distributed_cookie: must not be empty: every admin and cluster call is checked against it`
  ])
  assert.equal(problemsOf(() => loadConfig({ file: confFile('distributed_cookie = ""\n') })).length, 1)
  assert.equal(problemsOf(() => loadConfig({ env: { DOCKER_VERNEMQ_DISTRIBUTED_COOKIE: '' } })).length, 1)
  assert.equal(problemsOf(() => loadConfig({ sets: ['distributed_cookie='] })).length, 1)
})

test('a config that is not a regular file, or past 1 MB, is refused with one line', () => {
  assert.deepEqual(problemsOf(() => loadConfig({ file: '/dev/zero' })), ['/dev/zero: cannot read config file: not a regular file'])
  const dir = mkdtempSync(join(tmpdir(), 'vmq-conf-'))
  assert.deepEqual(problemsOf(() => loadConfig({ file: dir })), [`${dir}: cannot read config file: it is a directory`])
  const big = confFile('# padding\n'.repeat(110_000))
  assert.deepEqual(problemsOf(() => loadConfig({ file: big })), [`${big}: cannot read config file: larger than 1 MB`])
})

test('relative paths of a file, and the path defaults, are relative to the file; --set and the environment stay as given', () => {
  const file = confFile('persistent_dir = rel/data\nlistener.ssl.default.certfile = "certs/server.pem"\nvmq_acl.acl_file = /etc/vmq.acl\n')
  const dir = join(file, '..')
  const config = loadConfig({ file, sets: ['vmq_passwd.password_file=./p.passwd'] })
  assert.equal(config.values.get('persistent_dir'), join(dir, 'rel/data'))
  assert.equal(config.values.get('log.console.file'), join(dir, 'log/console.log'))
  assert.equal(config.values.get('log.error.file'), join(dir, 'log/error.log'))
  assert.equal(config.values.get('vmq_acl.acl_file'), '/etc/vmq.acl')
  assert.equal(config.values.get('vmq_passwd.password_file'), './p.passwd')
  assert.equal(config.listenerOptions.get('ssl.default')?.get('certfile'), join(dir, 'certs/server.pem'))
  assert.equal(loadConfig({}).values.get('persistent_dir'), './data', 'the embedded development config keeps ./data')
})
