import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { collect, connackCode, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, run, startNode, vmq, waitFor, type TestNode } from './helpers/processes.js'

describe('a single node on the anonymous test config', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('prints one line per listener and the node name', () => {
    assert.match(node.stdout, new RegExp(`node ${node.nodename} started`))
    assert.match(node.stdout, new RegExp(`listener mqtt tcp.default on 127.0.0.1:${node.mqttPort}`))
    assert.match(node.stdout, new RegExp(`listener mqttws ws.default on 127.0.0.1:${node.wsPort}`))
    assert.match(node.stdout, new RegExp(`listener vmq vmq.clustering on 127.0.0.1:${node.adminPort}`))
  })

  for (const qos of [0, 1, 2] as const) {
    it(`delivers QoS ${qos} between MQTT.js clients`, async () => {
      const sub = await connect(node.mqttUrl, { clientId: `sub${qos}` })
      const pub = await connect(node.mqttUrl, { clientId: `pub${qos}` })
      const got = collect(sub)
      await sub.subscribeAsync(`q/${qos}/+`, { qos })
      await pub.publishAsync(`q/${qos}/x`, `hello ${qos}`, { qos })
      await waitFor(() => got.length === 1, 5000, 'the message')
      assert.deepEqual(got[0], { topic: `q/${qos}/x`, payload: `hello ${qos}`, qos, retain: false })
      await endAll(sub, pub)
    })
  }

  it('keeps retained messages for later subscribers', async () => {
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('ret/a', 'kept', { qos: 1, retain: true })
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('ret/#', { qos: 1 })
    await waitFor(() => got.length === 1, 5000, 'the retained message')
    assert.deepEqual(got[0], { topic: 'ret/a', payload: 'kept', qos: 1, retain: true })
    await endAll(pub, sub)
  })

  it('talks to mosquitto_pub and mosquitto_sub', async () => {
    const subscriber = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(node.mqttPort), '-t', 'mosq/#', '-C', '1', '-v', '-q', '1', '-W', '10'])
    const watcher = await connect(node.mqttUrl)
    // wait until mosquitto_sub's subscription is in place: a retained-free probe loop would be racy,
    // so publish repeatedly (bounded) until mosquitto_sub exits with the message.
    let result: Awaited<typeof subscriber> | undefined
    void subscriber.then(r => { result = r })
    for (let i = 0; i < 100 && result === undefined; i++) {
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(node.mqttPort), '-t', 'mosq/t', '-m', 'from mosquitto_pub', '-q', '1'])
      await waitFor(() => result !== undefined, 100, 'mosquitto_sub').catch(() => {})
    }
    await watcher.endAsync(true)
    const r = await subscriber
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'mosq/t from mosquitto_pub')
  })

  it('accepts MQTT 3.1 clients', async () => {
    const c = await connect(node.mqttUrl, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'v31' })
    const got = collect(c)
    await c.subscribeAsync('v31/t')
    await c.publishAsync('v31/t', 'x')
    await waitFor(() => got.length === 1, 5000, 'the message')
    await c.endAsync(true)
  })

  it('serves MQTT over WebSocket on /mqtt and nothing on other paths', async () => {
    const ws = await connect(`ws://127.0.0.1:${node.wsPort}/mqtt`)
    const tcp = await connect(node.mqttUrl)
    const got = collect(ws)
    await ws.subscribeAsync('ws/t')
    await tcp.publishAsync('ws/t', 'over ws')
    await waitFor(() => got.length === 1, 5000, 'the message over ws')
    assert.equal(got[0].payload, 'over ws')
    await endAll(ws, tcp)
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request({ host: '127.0.0.1', port: node.wsPort, path: '/other', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
        .on('response', res => resolve(res.statusCode))
        .on('upgrade', () => resolve(101))
        .on('error', reject)
        .end()
    })
    assert.equal(status, 404)
  })

  it('acknowledges client publishes to $ topics and delivers them to nobody', async () => {
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('$SYS/mine')
    await sub.subscribeAsync('after')
    const pub = await connect(node.mqttUrl)
    let acked = false
    pub.publish('$SYS/mine', 'spoof', { qos: 1 }, () => { acked = true })
    await pub.publishAsync('after', 'marker', { qos: 1 })
    await waitFor(() => got.length === 1, 5000, 'the marker')
    assert.deepEqual(got.map(m => m.topic), ['after'])
    assert.equal(acked, true)
    assert.equal(pub.connected, true)
    await endAll(sub, pub)
  })

  it('cluster show prints the VerneMQ table', async () => {
    const r = await node.admin(['cluster', 'show'])
    assert.equal(r.code, 0, r.stderr)
    const rule = `+${'-'.repeat(node.nodename.length + 2)}+---------+`
    assert.equal(r.stdout, [rule, `| Node${' '.repeat(node.nodename.length - 3)}| Running |`, rule, `| ${node.nodename} | true    |`, rule, ''].join('\n'))
  })

  it('cluster show --format=json prints the JSON table shape', async () => {
    const r = await node.admin(['cluster', 'show', '--format=json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), { type: 'table', table: [{ Node: node.nodename, Running: true }] })
  })

  it('vmq-admin finds the node from -c FILE and from VMQ_NODE', async () => {
    // the node's own config has its cluster listener on port 0: the operator's file names the port
    const confFile = join(node.dir, 'operator.conf')
    writeFileSync(confFile, readFileSync(node.confFile, 'utf8').replace(/^listener\.vmq\.clustering = .*$/m, `listener.vmq.clustering = ${node.adminAddress}`))
    const fromFile = await vmq(['cluster', 'show', '-c', confFile, '--format=json'])
    assert.equal(fromFile.code, 0, fromFile.stderr)
    const fromEnv = await vmq(['cluster', 'show', '--format=json'], { env: { VMQ_NODE: node.adminAddress } })
    assert.equal(fromEnv.code, 0, fromEnv.stderr)
  })

  it('refuses admin calls with a wrong cookie', async () => {
    const r = await node.admin(['cluster', 'show', '--cookie', 'not-the-cookie'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim(), `Node '${node.adminAddress}' refused the call: wrong distributed_cookie`)
  })

  it('show prints current values, describe documents keys', async () => {
    const r = await node.admin(['show', 'max_client_id_size', 'allow_anonymous', '--format=json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), { type: 'table', table: [{ node: node.nodename, max_client_id_size: '23', allow_anonymous: 'on' }] })
    const d = await vmq(['describe', 'max_client_id_size', '--format=json'])
    assert.equal(d.code, 0, d.stderr)
    const row = JSON.parse(d.stdout).table[0]
    assert.equal(row.default, '23')
    assert.equal(row.settable, true)
    assert.match(row.description, /client id/)
  })

  it('set rejects unknown keys, fixed keys and bad values with exit 1', async () => {
    const unknown = await node.admin(['set', 'no_such_key=1'])
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stderr.trim(), 'Invalid config keys: no_such_key')
    const fixed = await node.admin(['set', 'nodename=x@y'])
    assert.equal(fixed.code, 1)
    assert.equal(fixed.stderr.trim(), 'The following config keys are not settable: ["nodename"]')
    const bad = await node.admin(['set', 'max_client_id_size=lots'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /max_client_id_size: expected an integer/)
    const inert = await node.admin(['set', 'coordinate_registrations=off'])
    assert.equal(inert.code, 1)
    assert.equal(inert.stderr.trim(), 'coordinate_registrations: no effect in vmq-ts yet; not changed')
  })

  it('describe says when a key has no effect', async () => {
    const d = await vmq(['describe', 'coordinate_registrations', '--format=json'])
    assert.equal(d.code, 0, d.stderr)
    assert.match(JSON.parse(d.stdout).table[0].description, / No effect in vmq-ts yet: the value is accepted and not used\.$/)
  })

  it('set max_client_id_size applies to the next CONNECT', async () => {
    const id = 'a-client-id-of-30-characters!!'
    assert.equal(await connackCode(node.mqttUrl, { clientId: id }), 2, 'the default limit is 23')
    const raised = await node.admin(['set', 'max_client_id_size=30'])
    assert.equal(raised.code, 0, raised.stderr)
    assert.equal(await connackCode(node.mqttUrl, { clientId: id }), 0)
    const r = await node.admin(['set', 'max_client_id_size=29'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await connackCode(node.mqttUrl, { clientId: id }), 2)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'short' }), 0)
    await node.admin(['set', 'max_client_id_size=23'])
  })
})

describe('admin commands without a node', () => {
  it('say the node is not responding and exit 2', async () => {
    const r = await vmq(['cluster', 'show', '--node', '127.0.0.1:1'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim(), "Node '127.0.0.1:1' not responding")
    assert.equal(r.stdout, '')
  })
})

describe('CLI usage', () => {
  it('an unknown command is a usage error: exit 1, one line', async () => {
    for (const [args, typed] of [[['nosuch'], 'nosuch'], [['cluster', 'nosuch'], 'cluster nosuch']] as const) {
      const r = await vmq([...args])
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `Unknown command "${typed}": \`vmq --help\` lists the commands\n`])
    }
  })

  it('session disconnect has --cleanup and no -c of its own: -c is the config file as in the other commands', async () => {
    const help = await vmq(['session', 'disconnect', '--help'])
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /^ {2}-c, --config=<value> /m)
    assert.match(help.stdout, /^ {6}--cleanup /m)
    const r = await vmq(['session', 'disconnect', 'client-id=x', '-c'])
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'Flag --config expects a value\n'])
  })

  it('the usage line of every command with key=value arguments shows them', async () => {
    const usage = async (command: string[]): Promise<string> => {
      const r = await vmq([...command, '--help'])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.split('\n')
      const start = lines.indexOf('USAGE')
      const end = lines.indexOf('', start)
      return lines.slice(start + 1, end).map(l => l.trim()).join(' ')
    }
    const target = '[-n <value>] [-c <value>] [--cookie <value>] [--secure] [--tls-cafile <value>] [--tls-certfile <value>] [--tls-keyfile <value>]'
    assert.equal(await usage(['cluster', 'join']), `$ vmq cluster join discovery-node=<node> ${target} [--format human|json]`)
    const kv: Array<[string, string]> = [
      ['cluster leave', 'node=<node>'],
      ['session disconnect', 'client-id=<id>'],
      ['session reauthorize', 'username=<user> client-id=<id>'],
      ['trace client', 'client-id=<id>'],
      ['api-key create', '[scope=<scope>] [expires=<yyyy-mm-ddThh:mm:ss>]'],
      ['api-key add', 'key=<key> [scope=<scope>] [expires=<yyyy-mm-ddThh:mm:ss>]'],
      ['api-key delete', 'key=<key> [scope=<scope>]'],
      ['api-key show', '[scope=<scope>|all]'],
      ['webhooks register', 'hook=<hook> endpoint=<url>'],
      ['webhooks deregister', 'hook=<hook> endpoint=<url>'],
      ['listener start', 'address=<ip> port=<port>'],
      ['listener stop', 'address=<ip> port=<port>'],
      ['listener restart', 'address=<ip> port=<port>'],
      ['listener delete', 'address=<ip> port=<port>']
    ]
    for (const [command, args] of kv) {
      const line = await usage(command.split(' '))
      assert.ok(line.startsWith(`$ vmq ${command} ${args} ${target}`), `${command}: ${line}`)
    }
  })
})

describe('node lifecycle', () => {
  it('exits 0 on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const node = await startNode({ conf: OPEN_ACCESS })
      const c = await connect(node.mqttUrl)
      node.proc.kill(signal)
      assert.equal(await node.waitExit(), 0)
      await waitFor(() => !c.connected, 5000, 'the client to be disconnected')
      c.end(true)
      node.cleanup()
    }
  })

  it('refuses the third client when max_connections = 2', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'listener.tcp.default.max_connections = 2'] })
    const a = await connect(node.mqttUrl)
    const b = await connect(node.mqttUrl)
    await assert.rejects(connect(node.mqttUrl))
    await endAll(a, b)
    await node.stop()
    node.cleanup()
  })

  it('without allow_anonymous and without credentials a client is refused', async () => {
    const node = await startNode({ conf: ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off'] })
    assert.equal(await connackCode(node.mqttUrl), 5)
    await node.stop()
    node.cleanup()
  })
})
