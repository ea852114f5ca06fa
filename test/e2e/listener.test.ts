import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { makePki, type Pki } from './helpers/certs.js'
import { collect, connackCode, connect, endAll } from './helpers/mqtt.js'
import { startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'

interface Row { type: string, status: string, address: string, port: string, mountpoint: string, max_conns: number | string, active_conns: number, all_conns: number, [k: string]: unknown }

describe('vmq-admin listener', () => {
  let node: TestNode
  let pki: Pki
  let dir: string
  let sslPort: number
  before(async () => {
    dir = tempDir('vmq-pki-')
    pki = makePki(dir)
    node = await startNode({
      conf: [
        'allow_anonymous = on', 'plugins.vmq_acl = off', 'plugins.vmq_passwd = off',
        'listener.ssl.default = 127.0.0.1:0',
        `listener.ssl.certfile = ${pki.server.cert}`,
        `listener.ssl.keyfile = ${pki.server.key}`,
        'listener.ssl.max_connections = 1',
        'listener.ws.default.allowed_protocol_versions = 5'
      ]
    })
    sslPort = node.port('ssl.default')
  })
  after(async () => {
    await node.stop()
    node.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  async function rows (...flags: string[]): Promise<Row[]> {
    const r = await node.admin(['listener', 'show', '--format=json', ...flags])
    assert.equal(r.code, 0, r.stderr)
    return (JSON.parse(r.stdout) as { table: Row[] }).table
  }

  async function row (port: number, ...flags: string[]): Promise<Row | undefined> {
    return (await rows(...flags)).find(r => r.port === String(port))
  }

  /** The bound port of the one listener `listener start port=0` added (matched by `which`). */
  async function startedPort (which: (row: Row) => boolean): Promise<number> {
    const found = (await rows()).filter(which)
    assert.equal(found.length, 1, JSON.stringify(found))
    assert.notEqual(found[0].port, '0')
    return Number(found[0].port)
  }

  async function ok (args: string[]): Promise<void> {
    const r = await node.admin(args)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'Done\n')
  }

  it('show lists every MQTT listener with VerneMQ\'s columns', async () => {
    const r = await node.admin(['listener', 'show'])
    assert.equal(r.code, 0, r.stderr)
    const header = r.stdout.split('\n')[1]
    assert.deepEqual(header.split('|').map(c => c.trim()).filter(c => c !== ''), ['type', 'status', 'address', 'port', 'mountpoint', 'max_conns', 'active_conns', 'all_conns'])
    const table = await rows()
    assert.deepEqual(table.map(t => [t.type, t.port]).sort(), [['mqtt', String(node.mqttPort)], ['mqtts', String(sslPort)], ['mqttws', String(node.wsPort)], ['vmq', String(node.adminPort)]].sort())
    // the cluster listener, configured on port 0 like the others, with the port it got
    assert.deepEqual(table.find(t => t.type === 'vmq'), { type: 'vmq', status: 'running', address: '127.0.0.1', port: String(node.adminPort), mountpoint: '', max_conns: 'infinity', active_conns: 0, all_conns: 0 })
    assert.deepEqual(table.find(t => t.type === 'mqtts'), { type: 'mqtts', status: 'running', address: '127.0.0.1', port: String(sslPort), mountpoint: '', max_conns: 1, active_conns: 0, all_conns: 0 })
    const tls = await row(sslPort, '--tls', '--mqtt')
    assert.equal(tls?.certfile, pki.server.cert)
    assert.equal(tls?.tls_version, 'tlsv1.2')
    assert.equal(tls?.require_certificate, false)
    assert.equal(tls?.allowed_protocol_versions, '3,4,5')
    assert.equal((await row(node.wsPort, '--mqtt'))?.allowed_protocol_versions, '5')
  })

  it('options work on every listener type: max_connections on ssl, allowed_protocol_versions on ws', async () => {
    const url = `mqtts://127.0.0.1:${sslPort}`
    const first = await connect(url, { ca: [readFileSync(pki.ca)] })
    assert.equal((await row(sslPort))?.active_conns, 1)
    assert.equal(await connackCode(url, { ca: [readFileSync(pki.ca)] }), 'closed')
    await first.endAsync(true)
    const wsUrl = `ws://127.0.0.1:${node.wsPort}/mqtt`
    assert.notEqual(await connackCode(wsUrl, { protocolVersion: 4 }), 0) // exact code: the test below
    const v5 = await connect(wsUrl, { protocolVersion: 5 })
    await v5.endAsync(true)
  })

  it('a protocol version the listener does not allow gets CONNACK 1, as in VerneMQ', async () => {
    assert.equal(await connackCode(`ws://127.0.0.1:${node.wsPort}/mqtt`, { protocolVersion: 4 }), 1)
    assert.equal(await connackCode(`ws://127.0.0.1:${node.wsPort}/mqtt`, { protocolVersion: 3, protocolId: 'MQIsdp' }), 1)
  })

  it('stop suspends: no new connections, existing ones stay; restart resumes', async () => {
    const existing = await connect(node.mqttUrl, { clientId: 'stays' })
    await ok(['listener', 'stop', 'address=127.0.0.1', `port=${node.mqttPort}`])
    assert.equal((await row(node.mqttPort))?.status, 'suspended')
    assert.equal(await connackCode(node.mqttUrl), 'closed')
    const got = collect(existing)
    await existing.subscribeAsync('still/here')
    await existing.publishAsync('still/here', 'yes')
    await waitFor(() => got.length === 1, 5000, 'a message on the existing connection')
    assert.equal((await row(node.mqttPort))?.active_conns, 1)
    await ok(['listener', 'restart', `port=${node.mqttPort}`, 'address=127.0.0.1'])
    assert.equal((await row(node.mqttPort))?.status, 'running')
    const again = await connect(node.mqttUrl)
    await endAll(existing, again)
  })

  it('stop -k also closes the existing connections', async () => {
    const existing = await connect(node.mqttUrl, { clientId: 'killed' })
    const closed = new Promise<void>(resolve => existing.once('close', () => resolve()))
    await ok(['listener', 'stop', 'address=127.0.0.1', `port=${node.mqttPort}`, '-k'])
    await closed
    await waitFor(async () => (await row(node.mqttPort))?.active_conns === 0, 5000, 'no connections left')
    await ok(['listener', 'restart', 'address=127.0.0.1', `port=${node.mqttPort}`])
    const again = await connect(node.mqttUrl)
    await again.endAsync(true)
  })

  it('start adds a listener with a mountpoint and a connection limit; delete removes it', async () => {
    await ok(['listener', 'start', 'address=127.0.0.1', 'port=0', '--mountpoint=site9', '--max_connections=1'])
    const port = await startedPort(row => row.mountpoint === 'site9')
    assert.deepEqual(await row(port), { type: 'mqtt', status: 'running', address: '127.0.0.1', port: String(port), mountpoint: 'site9', max_conns: 1, active_conns: 0, all_conns: 0 })
    const mounted = await connect(`mqtt://127.0.0.1:${port}`)
    assert.equal(await connackCode(`mqtt://127.0.0.1:${port}`), 'closed')
    // the mountpoint isolates it from the default listener
    const plain = await connect(node.mqttUrl)
    const got = collect(mounted)
    await mounted.subscribeAsync('m/#')
    await plain.publishAsync('m/plain', 'not for site9')
    await mounted.publishAsync('m/own', 'for site9')
    await waitFor(() => got.length === 1, 5000, 'the site9 message')
    assert.equal(got[0].topic, 'm/own')
    const closed = new Promise<void>(resolve => mounted.once('close', () => resolve()))
    await ok(['listener', 'delete', 'address=127.0.0.1', `port=${port}`])
    await closed
    assert.equal(await row(port), undefined)
    await plain.endAsync(true)
  })

  it('start --ssl and --websocket build TLS and WebSocket listeners', async () => {
    await ok(['listener', 'start', 'address=127.0.0.1', 'port=0', '--ssl', '--websocket', `--certfile=${pki.server.cert}`, `--keyfile=${pki.server.key}`])
    const port = await startedPort(row => row.type === 'mqttwss')
    assert.equal((await row(port))?.type, 'mqttwss')
    const c = await connect(`wss://127.0.0.1:${port}/mqtt`, { ca: [readFileSync(pki.ca)] })
    await c.endAsync(true)
    await ok(['listener', 'delete', 'address=127.0.0.1', `port=${port}`])
  })

  it('refuses bad requests with exit 1 and one line', async () => {
    const missing = join(dir, 'missing.pem')
    const port = 0
    const cases: Array<[string[], string]> = [
      [['listener', 'start', 'address=127.0.0.1', `port=${port}`, '--ssl', `--certfile=${missing}`, `--keyfile=${pki.server.key}`], `can't start listener: --certfile = ${missing}: no such file`],
      [['listener', 'start', 'address=127.0.0.1', `port=${node.mqttPort}`], `can't start listener: 127.0.0.1:${node.mqttPort} is already a listener (listener show)`],
      [['listener', 'start', 'address=127.0.0.1', `port=${port}`, '--max_connections=lots'], 'Invalid flag --max_connections=lots: expected an integer or infinity >= 0'],
      [['listener', 'stop', 'address=127.0.0.1', 'port=1'], "can't stop listener: no listener on 127.0.0.1:1 (listener show lists them)"],
      [['listener', 'stop', 'address=127.0.0.1', `port=${node.adminPort}`], `can't stop listener: 127.0.0.1:${node.adminPort} is the cluster listener (admin and cluster traffic); it runs as long as the node`],
      [['listener', 'restart', 'address=localhost', 'port=1883'], 'Invalid argument address=localhost: expected an IP address'],
      [['listener', 'delete', 'address=127.0.0.1'], 'Missing address= or port=: usage: listener delete address=<ip> port=<port>']
    ]
    for (const [args, message] of cases) {
      const r = await node.admin(args)
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`)
      assert.equal(r.stderr, message + '\n')
    }
  })
})
