import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { connackCode, connect, endAll } from './helpers/mqtt.js'
import { writeFileSync } from 'node:fs'
import { startNode, startWithConfig, tempDir, vmq, waitFor, type RunResult, type TestNode } from './helpers/processes.js'

const COOKIE = 'Sekr1t-Cookie-42'
const PASSWORD = 'Pa55-w0rd-xyz'
const WRONG = 'Wr0ng-Pa55-abc'

function logFiles (node: TestNode): string[] {
  return readdirSync(node.dir).filter(f => f.endsWith('.log')).map(f => join(node.dir, f))
}

describe('secrets never reach a log line', () => {
  it('at debug level, through a password connect, a wrong password, admin calls and a cluster join: no cookie, password or hash in any log or output', async () => {
    const dir = tempDir()
    const passwd = join(dir, 'vmq.passwd')
    const outputs: RunResult[] = []
    outputs.push(await vmq(['passwd', '-c', passwd, 'alice'], { input: `${PASSWORD}\n${PASSWORD}\n` }))
    assert.equal(outputs[0].code, 0, outputs[0].stderr)
    const hash = readFileSync(passwd, 'utf8').trim().split(':')[1]
    const conf = [
      `distributed_cookie = ${COOKIE}`, 'log.console = both', 'log.console.level = debug',
      'plugins.vmq_acl = off', `vmq_passwd.password_file = ${passwd}`
    ]
    const a = await startNode({ conf })
    const b = await startNode({ conf: [...conf, `discovery_node = ${a.adminAddress}`] })
    try {
      await waitFor(async () => {
        const r = await a.admin(['cluster', 'show', '--format=json'], { VMQ_COOKIE: COOKIE })
        return r.code === 0 && (JSON.parse(r.stdout).table as Array<{ Running: boolean }>).filter(m => m.Running).length === 2
      }, 10000, 'both nodes running in cluster show')
      const alice = await connect(a.mqttUrl, { clientId: 'alice-1', username: 'alice', password: PASSWORD })
      assert.equal(await connackCode(b.mqttUrl, { clientId: 'alice-2', username: 'alice', password: WRONG }), 4)
      const env = { VMQ_COOKIE: COOKIE }
      for (const args of [['session', 'show'], ['cluster', 'show'], ['retain', 'show'], ['set', 'max_inflight_messages=5'], ['show', 'allow_anonymous']]) {
        const r = await a.admin(args, env)
        assert.equal(r.code, 0, r.stderr)
        outputs.push(r)
      }
      outputs.push(await a.admin(['cluster', 'show'], { VMQ_COOKIE: 'not-the-cookie' }))
      await waitFor(() => a.stdout.includes('gRPC call refused'), 5000, 'the refused call in the log')
      await endAll(alice)
    } finally {
      await b.stop()
      await a.stop()
    }
    const texts = [
      ...[a, b].flatMap(n => [n.stdout, n.stderr, ...logFiles(n).map(f => readFileSync(f, 'utf8'))]),
      ...outputs.flatMap(r => [r.stdout, r.stderr])
    ]
    assert.ok(existsSync(join(a.dir, 'console.log')) && texts.join('').includes('[debug]'), 'debug lines were written')
    for (const secret of [COOKIE, PASSWORD, WRONG, hash]) {
      const leaks = texts.flatMap(t => t.split('\n')).filter(line => line.includes(secret))
      assert.deepEqual(leaks, [], `${secret} appears`)
    }
    a.cleanup()
    b.cleanup()
  })

  it('API keys: created, added, passed to a member, used right and wrong over HTTP, deleted, at debug level: no key in any log line', async () => {

    const conf = ['log.console = both', 'log.console.level = debug', 'allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off',
      'http_module.vmq_metrics_http.auth.mode = apikey', 'http_module.vmq_health_http.auth.mode = apikey']
    const a = await startNode({ conf: [...conf, 'listener.http.default = 127.0.0.1:0'] })
    const b = await startNode({ conf: [...conf, 'listener.http.default = 127.0.0.1:0', `discovery_node = ${a.adminAddress}`] })
    const [p1, p2] = [a.port('http.default'), b.port('http.default')]
    const added = 'Added-Key-7c1e9f0d2b'
    const wrong = 'Wrong-Key-5a8d3e6c4f'
    let created = ''
    try {
      await waitFor(async () => {
        const r = await a.admin(['cluster', 'show', '--format=json'])
        return r.code === 0 && (JSON.parse(r.stdout).table as Array<{ Running: boolean }>).filter(m => m.Running).length === 2
      }, 10000, 'both nodes running in cluster show')
      const create = await a.admin(['api-key', 'create', 'scope=metrics'])
      assert.equal(create.code, 0, create.stderr)
      created = create.stdout.trim()
      assert.equal((await a.admin(['api-key', 'add', `key=${added}`, 'scope=health'])).code, 0)
      assert.equal((await a.admin(['api-key', 'add', `key=${added}`, 'scope=health'])).code, 1)
      for (const [port, path, key, status] of [[p2, '/metrics', created, 200], [p1, '/health', added, 200], [p1, '/metrics', wrong, 401], [p2, '/health', created, 401]] as const) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-api-key': key } })
        assert.equal(res.status, status, `${path} on ${port}`)
        await res.text()
      }
      assert.equal((await b.admin(['api-key', 'delete', `key=${added}`, 'scope=health'])).code, 0)
      assert.equal((await b.admin(['api-key', 'delete', `key=${wrong}`])).code, 1)
    } finally {
      await b.stop()
      await a.stop()
    }
    const logs = [a, b].flatMap(n => [n.stdout, n.stderr, ...logFiles(n).map(f => readFileSync(f, 'utf8'))])
    assert.ok(logs.join('').includes('API key created with vmq-admin'), 'the creation is logged')
    for (const secret of [created, added, wrong]) {
      const leaks = logs.flatMap(t => t.split('\n')).filter(line => line.includes(secret))
      assert.deepEqual(leaks, [], `${secret} appears`)
    }
    a.cleanup()
    b.cleanup()
  })

  it('a config with CR-only line ends (old Mac) is read line by line: the cookie does not end up in the node name and the log', async () => {
    const dir = tempDir()
    const file = join(dir, 'vernemq.conf')
    writeFileSync(file, [
      'nodename = mac@127.0.0.1', `distributed_cookie = ${COOKIE}`, 'allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off',
      'listener.tcp.default = 127.0.0.1:0', 'listener.vmq.clustering = 127.0.0.1:0', `persistent_dir = ${join(dir, 'data')}`,
      `log.console.file = ${join(dir, 'console.log')}`, `log.error.file = ${join(dir, 'error.log')}`
    ].join('\r') + '\r')
    const node = await startWithConfig({ dir, confFile: file, nodename: 'mac@127.0.0.1' })
    try {
      assert.match(node.stdout, /^node mac@127\.0\.0\.1 started/m)
      assert.ok(!node.stdout.includes(COOKIE) && !node.stderr.includes(COOKIE), node.stdout)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
