import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/config/parse.js'
import { describeKey } from '../../../src/config/describe.js'

function confDir (): string {
  return mkdtempSync(join(tmpdir(), 'vmq-conf-'))
}

function confFile (lines: string[], dir = confDir()): string {
  const file = join(dir, 'vernemq.conf')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

function problemsOf (file: string): string[] {
  try {
    loadConfig({ file })
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n')
    throw err
  }
  assert.fail('expected a ConfigError')
}

test('a database backend vmq-ts lacks: off is accepted silently, on refuses the start naming the backends here', () => {
  for (const backend of ['postgres', 'cockroachdb', 'mysql', 'mysql2', 'mongodb']) {
    const key = `vmq_diversity.auth_${backend}.enabled`
    assert.deepEqual(loadConfig({ file: confFile([`${key} = off`]) }).warnings, [])
    const file = confFile(['plugins.vmq_diversity = on', `${key} = on`])
    assert.deepEqual(problemsOf(file), [
      `${file}:2: ${key}: vmq_diversity has no ${backend} backend in vmq-ts; the backends here: redis (vmq_diversity.auth_redis.enabled = on)`
    ])
  }
})

test('the settings of a missing backend are accepted, each with one warning', () => {
  const keys = ['vmq_diversity.postgres.host', 'vmq_diversity.memcache.port', 'vmq_diversity.mongodb.ssl.verify', 'vmq_diversity.auth_redis.script', 'vmq_diversity.script1.file']
  const file = confFile(keys.map(key => `${key} = x`))
  assert.deepEqual(loadConfig({ file }).warnings, keys.map((key, i) => `${file}:${i + 1}: ${key} has no effect in vmq-ts yet; the value is accepted and not used`))
  // a misspelt key of the backend that exists is still an error
  const typo = confFile(['vmq_diversity.auth_redis.enable = on'])
  assert.deepEqual(problemsOf(typo), [`${typo}:1: vmq_diversity.auth_redis.enable: unknown key (did you mean "vmq_diversity.auth_redis.enabled"?)`])
})

test('plugins.<unknown> = on refuses the start naming the plugin and the plugins here; off and .path/.priority warn', () => {
  const refused = confFile(['plugins.vmq_http_pub = on', 'plugins.myplugin = on'])
  const list = 'vmq_passwd, vmq_acl, vmq_diversity, vmq_webhooks, vmq_bridge'
  assert.deepEqual(problemsOf(refused), [
    `${refused}:1: plugins.vmq_http_pub: there is no plugin vmq_http_pub in vmq-ts; the plugins here: ${list}`,
    `${refused}:2: plugins.myplugin: there is no plugin myplugin in vmq-ts; the plugins here: ${list}`
  ])
  const file = confFile(['plugins.myplugin = off', 'plugins.myplugin.path = /opt/myplugin', 'plugins.myplugin.priority = 5', 'plugins.other.priority = 6'])
  const config = loadConfig({ file })
  assert.deepEqual(config.warnings, [1, 2, 3, 4].map(line => `${file}:${line}: ${['plugins.myplugin', 'plugins.myplugin.path', 'plugins.myplugin.priority', 'plugins.other.priority'][line - 1]} has no effect in vmq-ts yet; the value is accepted and not used`))
  assert.equal(config.values.has('plugins.myplugin.path'), false)
  assert.deepEqual(problemsOf(confFile(['plugins.myplugin.priority = high'])).map(p => p.replace(/^.*:1: /, '')), [
    'plugins.myplugin.priority: invalid value "high", expected an integer >= 0'
  ])
})

test('describe says "no effect" for the keys of a family and the new listener options', () => {
  for (const key of ['plugins.myplugin', 'plugins.myplugin.path', 'plugins.myplugin.priority', 'vmq_diversity.script1.file', 'vmq_diversity.postgres.host',
    'vmq_web_ui.admin.auth', 'logging.obfuscation_secret', 'listener.tcp.buffer_sizes', 'listener.ssl.default.pskfile', 'listener.ws.proxy_xff_support',
    'listener.tcp.default.auth_plugins']) {
    assert.match(String(describeKey(key)?.description), /No effect in vmq-ts yet/, key)
  }
  assert.match(String(describeKey('max_ws_frame_size')?.description), /^Largest WebSocket frame accepted/)
  assert.doesNotMatch(String(describeKey('max_ws_frame_size')?.description), /No effect/)
})

test('per-listener VerneMQ options are accepted with one warning; written per type they are not taken for listener names', () => {
  const file = confFile([
    'listener.tcp.buffer_sizes = 4096,16384,32768',
    'listener.tcp.active_n = 1',
    'listener.ssl.pskfile = ./etc/vmq.psk',
    'listener.ssl.psk_identity_hint = VMQ_PSK',
    'listener.ws.default.proxy_xff_support = on',
    'listener.tcp.default.auth_plugins = vmq_passwd',
    'listener.tcp.default = 127.0.0.1:1883'
  ])
  const config = loadConfig({ file })
  assert.deepEqual(config.warnings, ['listener.tcp.buffer_sizes', 'listener.tcp.active_n', 'listener.ssl.pskfile', 'listener.ssl.psk_identity_hint',
    'listener.ws.default.proxy_xff_support', 'listener.tcp.default.auth_plugins'].map((key, i) => `${file}:${i + 1}: ${key} has no effect in vmq-ts yet; the value is accepted and not used`))
  assert.deepEqual(config.listeners.map(l => `${l.type}.${l.name}`), ['tcp.default', 'vmq.clustering'])
})

test('max_ws_frame_size as a plain key sets every listener; a listener\'s own value wins', () => {
  const config = loadConfig({ file: confFile(['max_ws_frame_size = 1024', 'listener.ws.a = 127.0.0.1:1', 'listener.ws.b = 127.0.0.1:2', 'listener.ws.b.max_ws_frame_size = 2048']) })
  assert.deepEqual(config.warnings, [])
  assert.deepEqual(config.listeners.filter(l => l.type === 'ws').map(l => l.options.get('max_ws_frame_size')), [1024, 2048])
})

test('a unix-socket listener is accepted with a warning and not started, and no implicit MQTT listener replaces it', () => {
  const file = confFile(['listener.tcp.local = local:/var/run/vernemq.sock:0'])
  const config = loadConfig({ file })
  assert.deepEqual(config.warnings, [`${file}:1: listener.tcp.local is a unix-socket listener, which vmq-ts does not have; this listener is not started`])
  assert.deepEqual(config.listeners.map(l => `${l.type}.${l.name}`), ['vmq.clustering'])
  const ws = confFile(['listener.ws.local = local:/var/run/vernemq.sock:0'])
  assert.deepEqual(problemsOf(ws), [`${ws}:1: listener.ws.local: invalid value "local:/var/run/vernemq.sock:0", expected an address as ip:port (or off)`])
})

test('options of the placeholder listener $name warn once each and configure no listener', () => {
  const file = confFile(['listener.tcp.$name.allow_anonymous_override = off', 'listener.ssl.$name.nr_of_acceptors = 10'])
  const config = loadConfig({ file })
  const placeholder = "has no effect: $name is the placeholder of VerneMQ's generated file, not a listener name; the value is accepted and not used"
  assert.deepEqual(config.warnings, [`${file}:1: listener.tcp.$name.allow_anonymous_override ${placeholder}`, `${file}:2: listener.ssl.$name.nr_of_acceptors ${placeholder}`])
  assert.deepEqual(config.listeners.map(l => `${l.type}.${l.name}`), ['tcp.default', 'vmq.clustering'])
})

test('include: files matching the glob, in name order, in place of the line; they may override the including file', () => {
  const dir = confDir()
  mkdirSync(join(dir, 'conf.d'))
  writeFileSync(join(dir, 'conf.d', 'b.conf'), 'max_inflight_messages = 7\n')
  writeFileSync(join(dir, 'conf.d', 'a.conf'), 'max_inflight_messages = 5\nmax_online_messages = 50\nretry_interval = 9\n')
  writeFileSync(join(dir, 'conf.d', 'c.txt'), 'not = read\n')
  const file = confFile(['max_online_messages = 10', 'include conf.d/*.conf', 'retry_interval = 3', 'log.console.file = ./log/c.log'], dir)
  const config = loadConfig({ file })
  assert.equal(config.values.get('max_inflight_messages'), 7)
  assert.equal(config.values.get('max_online_messages'), 50)
  assert.equal(config.values.get('retry_interval'), 3)
  assert.equal(config.values.get('log.console.file'), join(dir, 'log', 'c.log'))
  // a directory that does not exist matches nothing, as in cuttlefish
  assert.deepEqual(loadConfig({ file: confFile(['include conf.d/*.conf']) }).warnings, [])
})

test('include: problems of an included file name that file; a file including itself stops', () => {
  const dir = confDir()
  mkdirSync(join(dir, 'conf.d'))
  writeFileSync(join(dir, 'conf.d', 'bad.conf'), '\nmax_inflight_messages = many\n')
  const file = confFile(['include conf.d/bad.conf'], dir)
  assert.deepEqual(problemsOf(file), [`${join(dir, 'conf.d', 'bad.conf')}:2: max_inflight_messages: invalid value "many", expected an integer >= 0`])
  const loop = confFile(['include vernemq.conf'])
  const problems = problemsOf(loop)
  assert.equal(problems.length, 1)
  assert.equal(problems[0], `${loop}:1: include nested more than 8 deep (does a file include itself?)`)
})
