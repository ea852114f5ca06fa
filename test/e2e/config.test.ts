import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connackCode, connect, grantedQos } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, tempDir, vmq, waitFor } from './helpers/processes.js'

describe('configuration of a node', () => {
  it('refuses to start on a file with three errors and reports all three with line numbers', async () => {
    const dir = tempDir()
    const file = join(dir, 'vernemq.conf')
    writeFileSync(file, [
      'allow_anonymous = perhaps',
      'listener.tcp.default = 127.0.0.1:1883',
      'retry_intervall = 20',
      '# a comment',
      'max_inflight_messages = -5'
    ].join('\n'))
    const r = await vmq(['start', '-c', file])
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`${file}:1: allow_anonymous: invalid value "perhaps", expected on or off`))
    assert.match(r.stderr, new RegExp(`${file}:3: retry_intervall: unknown key \\(did you mean "retry_interval"\\?\\)`))
    assert.match(r.stderr, new RegExp(`${file}:5: max_inflight_messages: invalid value "-5", expected an integer >= 0`))
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace')
  })

  it('DOCKER_VERNEMQ_ALLOW_ANONYMOUS=on and DOCKER_VERNEMQ_LOG__CONSOLE__LEVEL=debug take effect', async () => {
    const node = await startNode({
      conf: ['plugins.vmq_acl = off', 'plugins.vmq_passwd = off', 'log.console = file'],
      env: { DOCKER_VERNEMQ_ALLOW_ANONYMOUS: 'on', DOCKER_VERNEMQ_LOG__CONSOLE__LEVEL: 'debug' }
    })
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'env-client' }), 0)
    const shown = await node.admin(['show', 'allow_anonymous', 'log.console.level', '--format=json'])
    assert.deepEqual(JSON.parse(shown.stdout).table[0], { node: node.nodename, allow_anonymous: 'on', 'log.console.level': 'debug' })
    const log = join(node.dir, 'console.log')
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('[debug] client connected client=env-client'), 5000, 'the debug line')
    await node.stop()
    node.cleanup()
  })

  it('DOCKER_VERNEMQ_USER_<NAME>=<password> adds the user <name> to the password file at start (created when missing), as VerneMQ\'s image does', async () => {
    const dir = tempDir()
    const passwd = join(dir, 'vmq.passwd')
    const node = await startNode({
      conf: ['allow_anonymous = off', 'plugins.vmq_acl = off', `vmq_passwd.password_file = ${passwd}`],
      env: { DOCKER_VERNEMQ_USER_ALICE: 's3cret', DOCKER_VERNEMQ_USER_bob: 'other' }
    })
    try {
      assert.deepEqual(readFileSync(passwd, 'utf8').split('\n').filter(l => l !== '').map(l => l.split(':')[0]), ['alice', 'bob'])
      assert.equal(await connackCode(node.mqttUrl, { clientId: 'u1', username: 'alice', password: 's3cret' }), 0)
      assert.equal(await connackCode(node.mqttUrl, { clientId: 'u2', username: 'bob', password: 'other' }), 0)
      assert.equal(await connackCode(node.mqttUrl, { clientId: 'u3', username: 'alice', password: 'wrong' }), 4)
      assert.doesNotMatch(node.stdout + node.stderr, /s3cret/, 'no password in the log')
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('a DOCKER_VERNEMQ_USER_ variable with an empty password refuses the start, naming it', async () => {
    const node = await startNode({ conf: OPEN_ACCESS, env: { DOCKER_VERNEMQ_USER_CAROL: '' }, noWait: true })
    assert.equal(await node.waitExit(), 1)
    assert.match(node.stderr, /DOCKER_VERNEMQ_USER_CAROL: the password is empty/)
    node.cleanup()
  })

  it('log.console = file writes text lines to log.console.file and nothing to stdout', async () => {
    const node = await startNode({ conf: ['log.console = file', 'allow_anonymous = on'] })
    const text = readFileSync(join(node.dir, 'console.log'), 'utf8')
    assert.match(text, /^\S+ \[warning\] allow_anonymous = on: clients connect without credentials/m)
    assert.match(text, /\[info\] node started/)
    assert.doesNotMatch(node.stdout, /\[info\]/)
    assert.ok(existsSync(join(node.dir, 'error.log')))
    await node.stop()
    node.cleanup()
  })

  it('log.console.rotation.size/keep rotate the console log; SIGHUP makes the node write to a moved-away path again (logrotate)', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'log.console = file', 'log.console.level = debug', 'log.console.rotation.size = 2000', 'log.console.rotation.keep = 2'] })
    const log = join(node.dir, 'console.log')
    try {
      for (let i = 0; i < 60 && !existsSync(`${log}.1`); i++) await connackCode(node.mqttUrl, { clientId: `rot-${i}` })
      assert.equal(existsSync(`${log}.1`), true, 'two rotations happened')
      assert.equal(existsSync(`${log}.2`), false, 'no more than keep = 2 rotated files')
      for (const file of [log, `${log}.0`, `${log}.1`]) assert.ok(statSync(file).size <= 2000, `${file} within rotation.size`)
      renameSync(log, `${log}.moved`)
      node.proc.kill('SIGHUP')
      await waitFor(async () => {
        await connackCode(node.mqttUrl, { clientId: 'after-hup' })
        return existsSync(log) && readFileSync(log, 'utf8').includes('client=after-hup')
      }, 5000, 'a new console.log after SIGHUP')
      assert.equal(node.exitCode, undefined, 'SIGHUP does not stop the node')
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('log.console.console.format = json writes JSON lines', async () => {
    const node = await startNode({ conf: ['log.console.console.format = json', 'allow_anonymous = on'] })
    const line = node.stdout.split('\n').find(l => l.includes('node started'))
    assert.ok(line !== undefined)
    assert.equal(JSON.parse(line).msg, 'node started')
    await node.stop()
    node.cleanup()
  })

  it('log.error.file.format = json writes the error log as JSON lines', async () => {
    const node = await startNode({ conf: ['log.error.file.format = json', 'allow_anonymous = on', 'plugins.vmq_acl = on', 'vmq_acl.acl_file = ./missing.acl'] })
    try {
      const file = join(node.dir, 'error.log')
      let lines: string[] = []
      await waitFor(() => (lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(l => l !== '') : []).length > 0, 5000, 'a line in error.log')
      const record = JSON.parse(lines[0])
      assert.equal(record.level, 50)
      assert.equal(record.msg, `can't load ACL file ${join(node.dir, 'missing.acl')}: no such file; no ACL rules: every PUBLISH and SUBSCRIBE will be refused until it exists (or set plugins.vmq_acl = off)`)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('vmq_acl on without its ACL file: the start says every PUBLISH and SUBSCRIBE will be refused, and a SUBSCRIBE is', async () => {
    const node = await startNode({ conf: ['allow_anonymous = on', 'plugins.vmq_passwd = off'] })
    try {
      const line = node.stdout.split('\n').find(l => l.includes('ACL file'))
      assert.equal(line?.replace(/^\S+ /, ''), `[error] can't load ACL file ${join(node.dir, 'vmq.acl')}: no such file; no ACL rules: every PUBLISH and SUBSCRIBE will be refused until it exists (or set plugins.vmq_acl = off) plugin=vmq_acl`)
      const client = await connect(node.mqttUrl)
      assert.equal(await grantedQos(client, 'a/b'), 128)
      await client.endAsync()
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('vmq_acl on with an ACL file of no rules: the start says every PUBLISH and SUBSCRIBE will be refused', async () => {
    const dir = tempDir()
    const acl = join(dir, 'empty.acl')
    writeFileSync(acl, '# no rules yet\n')
    const node = await startNode({ conf: ['allow_anonymous = on', 'plugins.vmq_passwd = off', `vmq_acl.acl_file = ${acl}`] })
    try {
      const line = node.stdout.split('\n').find(l => l.includes('ACL file'))
      assert.equal(line?.replace(/^\S+ /, ''), `[warning] loaded ACL file ${acl}: 0 rules; no ACL rules: every PUBLISH and SUBSCRIBE will be refused until it has some (or set plugins.vmq_acl = off) plugin=vmq_acl`)
    } finally {
      await node.stop()
      node.cleanup()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('log.syslog = on without a syslog socket stops the start with one clear line', async () => {
    const node = await startNode({ conf: ['log.syslog = on'], noWait: true })
    assert.equal(await node.waitExit(), 1)
    assert.match(node.stderr, /log.syslog = on but there is no syslog socket at \/dev\/log/)
    node.cleanup()
  })

  it('log.syslog = on sends the log lines to the syslog socket with their priority', async () => {
    const dir = tempDir()
    const socket = join(dir, 'log.sock')
    const received = join(dir, 'received.txt')
    // a tiny syslog daemon: a unix datagram socket that appends what it receives to a file
    const daemon = spawn('python3', ['-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      'print("ready", flush=True)',
      'while True:',
      '    data = s.recv(65536)',
      '    with open(sys.argv[2], "ab") as f: f.write(data + b"\\n")'
    ].join('\n'), socket, received], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>(resolve => daemon.stdout.once('data', () => resolve()))
    const node = await startNode({ conf: [...OPEN_ACCESS, 'log.syslog = on', 'log.syslog.facility = local3', 'log.syslog.ident = vmqtest'], env: { VMQ_SYSLOG_SOCKET: socket } })
    try {
      // local3 (19) * 8 + info (6) = 158; warning (4) = 156
      await waitFor(() => existsSync(received) && /<158>.*vmqtest.*node started/.test(readFileSync(received, 'utf8')), 10000, 'the node started line in syslog')
      assert.match(readFileSync(received, 'utf8'), /<156>.*vmqtest.*allow_anonymous = on/)
    } finally {
      await node.stop()
      node.cleanup()
      daemon.kill()
    }
  })

  it('a listener address in use stops the start with a line naming the key', async () => {
    const first = await startNode({ conf: ['allow_anonymous = on'] })
    const second = await startNode({ conf: [`listener.tcp.default = 127.0.0.1:${first.mqttPort}`], noWait: true })
    assert.equal(await second.waitExit(), 1)
    assert.match(second.stderr, new RegExp(`listener.tcp.default = 127.0.0.1:${first.mqttPort}: cannot listen: address already in use`))
    await first.stop()
    first.cleanup()
    second.cleanup()
  })

  it('listener.mountpoint isolates the topics of a listener', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'listener.tcp.mounted = 127.0.0.1:0', 'listener.tcp.mounted.mountpoint = site1'] })
    const mounted = node.port('tcp.mounted')
    const { connect, collect, endAll } = await import('./helpers/mqtt.js')
    const plain = await connect(node.mqttUrl)
    const inside = await connect(`mqtt://127.0.0.1:${mounted}`)
    const plainGot = collect(plain)
    const insideGot = collect(inside)
    await plain.subscribeAsync('#')
    await inside.subscribeAsync('#')
    await inside.publishAsync('t/inside', 'i', { qos: 1 })
    await plain.publishAsync('t/outside', 'o', { qos: 1 })
    await waitFor(() => insideGot.length >= 1, 5000, 'the mounted message')
    // the mounted message has been routed; a marker published afterwards on the plain side
    // arrives after any leaked copy would have
    await plain.publishAsync('t/marker', 'm', { qos: 1 })
    await waitFor(() => plainGot.some(m => m.topic === 't/marker'), 5000, 'the marker')
    assert.deepEqual(plainGot.map(m => m.topic), ['t/outside', 't/marker'])
    assert.deepEqual(insideGot.map(m => m.topic), ['t/inside'])
    await endAll(plain, inside)
    await node.stop()
    node.cleanup()
  })
})
