// A node started on the vernemq.conf VerneMQ 2.2.0 generates (test/fixtures),
// with only its listener addresses moved to loopback port 0: it starts,
// warns once for each key without effect here, and serves MQTT clients.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { collect, connackCode, connect, endAll } from './helpers/mqtt.js'
import { REPO, startWithConfig, tempDir, vmq, waitFor } from './helpers/processes.js'

const FIXTURE = join(REPO, 'test', 'fixtures', 'vernemq-2.x-stock.conf')

const NO_EFFECT = [
  'coordinate_registrations', 'logging.obfuscation_secret',
  'listener.nr_of_acceptors', 'listener.ssl.pskfile',
  'graphite_enabled', 'graphite_host', 'graphite_port', 'graphite_interval',
  'metadata_plugin',
  'vmq_diversity.postgres.ssl', 'vmq_diversity.postgres.ssl.verify', 'vmq_diversity.postgres.ssl.use_system_cas', 'vmq_diversity.postgres.password_hash_method',
  'vmq_diversity.cockroachdb.ssl', 'vmq_diversity.cockroachdb.ssl.verify', 'vmq_diversity.cockroachdb.ssl.use_system_cas', 'vmq_diversity.cockroachdb.password_hash_method',
  'vmq_diversity.mysql.password_hash_method',
  'vmq_diversity.mysql2.ssl', 'vmq_diversity.mysql2.ssl.verify', 'vmq_diversity.mysql2.ssl.use_system_cas', 'vmq_diversity.mysql2.password_hash_method',
  'vmq_diversity.mongodb.ssl', 'vmq_diversity.mongodb.ssl.verify', 'vmq_diversity.mongodb.ssl.use_system_cas'
]
const PLACEHOLDER = ['tcp', 'ssl', 'ws', 'wss'].map(type => `listener.${type}.$name.allow_anonymous_override`)
const IGNORED = [
  'vmq_diversity.script_dir',
  'vmq_bcrypt.pool_size', 'vmq_bcrypt.nif_pool_size', 'vmq_bcrypt.nif_pool_max_overflow', 'vmq_bcrypt.default_log_rounds', 'vmq_bcrypt.mechanism',
  ...['log.crash', 'log.sasl'].flatMap(log => [log, `${log}.file`, `${log}.rotation.size`, `${log}.rotation.keep`, `${log}.rotation.compress_on_rotate`]),
  'erlang.async_threads', 'erlang.max_ports', 'leveldb.maximum_memory.percent', 'leveldb.compression', 'leveldb.compression.algorithm'
]

interface StockCopy { dir: string, file: string, lines: string[] }

/** The fixture in a temp dir, its listeners on loopback port 0; its relative paths (logs, data, etc/) land in that dir. */
async function stockCopy (): Promise<StockCopy> {
  const dir = tempDir('vmq-stock-')
  const rewrites: Array<[RegExp, string]> = [
    // the stock file has its MQTT listener commented out; an operator uncomments it
    [/^## listener\.tcp\.\$name = 127\.0\.0\.1:1883$/, 'listener.tcp.default = 127.0.0.1:0'],
    [/^listener\.vmq\.clustering = 0\.0\.0\.0:44053$/, 'listener.vmq.clustering = 127.0.0.1:0'],
    [/^listener\.http\.default = 127\.0\.0\.1:8888$/, 'listener.http.default = 127.0.0.1:0']
  ]
  const lines = readFileSync(FIXTURE, 'utf8').split('\n')
  for (const [pattern, line] of rewrites) {
    const at = lines.findIndex(l => pattern.test(l))
    assert.ok(at >= 0, `the fixture has a line ${String(pattern)}`)
    lines[at] = line
  }
  const file = join(dir, 'vernemq.conf')
  writeFileSync(file, lines.join('\n'))
  mkdirSync(join(dir, 'etc'))
  writeFileSync(join(dir, 'etc', 'vmq.acl'), 'user alice\ntopic stock/#\n')
  const passwd = await vmq(['passwd', '-c', join(dir, 'etc', 'vmq.passwd'), 'alice', '--password', 'secret'])
  assert.equal(passwd.code, 0, passwd.stderr)
  return { dir, file, lines }
}

/** The line number of `key = ...` in the copy (1-based). */
function lineOf (copy: StockCopy, key: string): number {
  const at = copy.lines.findIndex(l => l.startsWith(`${key} = `))
  assert.ok(at >= 0, `${key} is a line of the stock file`)
  return at + 1
}

describe('VerneMQ 2.2.0 stock vernemq.conf', () => {
  it('starts, warns once for each key without effect (file:line and key), and serves MQTT', async () => {
    const copy = await stockCopy()
    const node = await startWithConfig({ dir: copy.dir, confFile: copy.file, nodename: 'VerneMQ@127.0.0.1' })
    const mqtt = node.port('tcp.default')
    const clients = []
    try {
      assert.equal(node.stdout, [
        `node VerneMQ@127.0.0.1 started (config: ${copy.file})`,
        `listener mqtt tcp.default on 127.0.0.1:${mqtt}`,
        `listener http http.default on 127.0.0.1:${node.port('http.default')}`,
        `listener vmq vmq.clustering on 127.0.0.1:${node.adminPort}`
      ].join('\n') + '\n')

      // log.console = file: the start's warnings are in ./log/console.log next to the config
      const log = join(copy.dir, 'log', 'console.log')
      await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('node started'), 10000, 'node started in console.log')
      const warned = readFileSync(log, 'utf8').split('\n').filter(l => l.includes(`[warning] ${copy.file}:`)).map(l => l.replace(/^\S+ \[warning\] /, ''))
      const expected = [
        ...NO_EFFECT.map(key => `${copy.file}:${lineOf(copy, key)}: ${key} has no effect in vmq-ts yet; the value is accepted and not used`),
        ...PLACEHOLDER.map(key => `${copy.file}:${lineOf(copy, key)}: ${key} has no effect: $name is the placeholder of VerneMQ's generated file, not a listener name; the value is accepted and not used`),
        ...IGNORED.map(key => `${copy.file}:${lineOf(copy, key)}: ${key} is a VerneMQ setting vmq-ts does not use; ignored`)
      ]
      assert.equal(warned.length, 50)
      assert.deepEqual([...warned].sort(), [...expected].sort())
      assert.ok(existsSync(join(copy.dir, 'log', 'error.log')))
      assert.ok(existsSync(join(copy.dir, 'data')))

      // allow_anonymous = off with vmq_passwd and vmq_acl on, reading ./etc/vmq.passwd and ./etc/vmq.acl
      assert.equal(await connackCode(`mqtt://127.0.0.1:${mqtt}`, { clientId: 'anon', protocolVersion: 4 }), 5)
      const sub = await connect(`mqtt://127.0.0.1:${mqtt}`, { clientId: 'sub', username: 'alice', password: 'secret', protocolVersion: 4 })
      clients.push(sub)
      await sub.subscribeAsync('stock/#', { qos: 1 })
      const pub = await connect(`mqtt://127.0.0.1:${mqtt}`, { clientId: 'pub', username: 'alice', password: 'secret', protocolVersion: 4 })
      clients.push(pub)
      await pub.publishAsync('stock/t', 'hello', { qos: 1 })
      await waitFor(() => collect(sub).length === 1, 5000, 'the message at the subscriber')
      assert.deepEqual(collect(sub), [{ topic: 'stock/t', payload: 'hello', qos: 1, retain: false }])
    } finally {
      await endAll(...clients)
      assert.equal(await node.stop(), 0)
      node.cleanup()
    }
  })

  it('a postgres backend switched on refuses the start naming the backends here', async () => {
    const copy = await stockCopy()
    const at = lineOf(copy, 'vmq_diversity.auth_postgres.enabled')
    copy.lines[at - 1] = 'vmq_diversity.auth_postgres.enabled = on'
    writeFileSync(copy.file, copy.lines.join('\n'))
    const r = await vmq(['start', '-c', copy.file], { cwd: copy.dir })
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), `Error: invalid configuration:\n${copy.file}:${at}: vmq_diversity.auth_postgres.enabled: vmq_diversity has no postgres backend in vmq-ts; the backends here: redis (vmq_diversity.auth_redis.enabled = on)`)
  })

  it('a plugin vmq-ts does not have, switched on, refuses the start naming it and the plugins here', async () => {
    const copy = await stockCopy()
    writeFileSync(copy.file, copy.lines.join('\n') + '\nplugins.vmq_web_ui = on\n')
    const r = await vmq(['start', '-c', copy.file], { cwd: copy.dir })
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), `Error: invalid configuration:\n${copy.file}:${copy.lines.length + 1}: plugins.vmq_web_ui: there is no plugin vmq_web_ui in vmq-ts; the plugins here: vmq_passwd, vmq_acl, vmq_diversity, vmq_webhooks, vmq_bridge`)
  })
})
