// vmq_bridge against a real mosquitto as the remote broker: out and in with
// prefixes and QoS, no loop on a `both` line, delivery to the subscribers of
// every cluster member, the remote going away and coming back (bounded buffer,
// dropped messages counted and logged once), and a TLS bridge with client
// certificates.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type AddressInfo } from 'node:net'
import type { IClientOptions, MqttClient } from 'mqtt'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { Mosquitto } from './helpers/mosquitto.js'
import { makePki } from './helpers/certs.js'
import { waitMembers } from './helpers/cluster.js'
import { OPEN_ACCESS, run, startNode, tempDir, vmq, waitFor, type TestNode } from './helpers/processes.js'

type Row = Record<string, string | number | boolean | null>

async function bridgeRows (node: TestNode): Promise<Row[]> {
  const r = await node.admin(['bridge', 'show', '--format=json'])
  assert.equal(r.code, 0, r.stderr)
  const json = JSON.parse(r.stdout) as { table: Row[] }
  return json.table
}

async function waitBridge (node: TestNode, name: string, check: (row: Row) => boolean, what: string, timeoutMs = 15000): Promise<Row> {
  let last: Row | undefined
  await waitFor(async () => {
    last = (await bridgeRows(node)).find(row => row.name === name)
    return last !== undefined && check(last)
  }, timeoutMs, `${what} (last bridge show row: ${JSON.stringify(last)})`)
  return last as Row
}

function topics (seen: Received[]): string[] {
  return seen.map(m => m.topic)
}

/** A mosquitto and a node with vmq_bridge on, bridged to it by `conf`; close() ends the clients and removes what it made. */
interface Bridged {
  remote: Mosquitto
  node: TestNode
  clients: MqttClient[]
  /** connects a client that close() ends */
  client: (url: string, opts?: IClientOptions) => Promise<MqttClient>
  close: () => Promise<void>
}

/** Starts them in `dir` (removed by close()). */
async function bridged (dir: string, startRemote: () => Promise<Mosquitto>, conf: (remote: Mosquitto) => string[]): Promise<Bridged> {
  const clients: MqttClient[] = []
  let remote: Mosquitto | undefined
  let node: TestNode | undefined
  const close = async (): Promise<void> => {
    await endAll(...clients)
    await node?.stop()
    await remote?.stop()
    node?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    remote = await startRemote()
    node = await startNode({ conf: [...OPEN_ACCESS, 'plugins.vmq_bridge = on', ...conf(remote)] })
  } catch (err) {
    await close()
    throw err
  }
  const client = async (url: string, opts: IClientOptions = {}): Promise<MqttClient> => {
    const c = await connect(url, opts)
    clients.push(c)
    return c
  }
  return { remote, node, clients, client, close }
}

describe('tcp bridge to mosquitto', () => {
  let setup: Bridged | undefined
  let remote: Mosquitto
  let node: TestNode
  let member: TestNode
  let httpPort: number
  let client: Bridged['client']

  before(async () => {
    const dir = tempDir('vmq-bridge-test-')
    setup = await bridged(dir, async () => await Mosquitto.start(dir, undefined, true), remote => [
      'listener.http.default = 127.0.0.1:0',
      `vmq_bridge.tcp.br0 = 127.0.0.1:${remote.port}`,
      'vmq_bridge.tcp.br0.client_id = vmq-br0',
      'vmq_bridge.tcp.br0.restart_timeout = 1',
      'vmq_bridge.tcp.br0.max_outgoing_buffered_messages = 3',
      'vmq_bridge.tcp.br0.topic.1 = out/# out 1 local/ remote/',
      'vmq_bridge.tcp.br0.topic.2 = in/# in 1 local/ remote/',
      'vmq_bridge.tcp.br0.topic.3 = zero/# out 0',
      'vmq_bridge.tcp.br0.topic.4 = loop/# both 1 l3/ r3/',
      `vmq_bridge.tcp.br5 = 127.0.0.1:${remote.port}`,
      'vmq_bridge.tcp.br5.client_id = vmq-br5',
      'vmq_bridge.tcp.br5.mqtt_version = 5',
      'vmq_bridge.tcp.br5.topic.1 = both/# both 1 l/ r/',
      `vmq_bridge.tcp.brnp = 127.0.0.1:${remote.port}`,
      'vmq_bridge.tcp.brnp.client_id = vmq-brnp',
      'vmq_bridge.tcp.brnp.mqtt_version = 4',
      'vmq_bridge.tcp.brnp.try_private = off',
      'vmq_bridge.tcp.brnp.topic.1 = np/# both 1 lnp/ rnp/'])
    remote = setup.remote
    node = setup.node
    client = setup.client
    httpPort = node.port('http.default')
    member = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${node.adminAddress}`] })
    await waitMembers(node, { [node.nodename]: true, [member.nodename]: true }, 15000)
    await waitBridge(node, 'br0', row => row.status === 'connected', 'br0 to connect')
    await waitBridge(node, 'br5', row => row.status === 'connected', 'br5 to connect')
    await waitBridge(node, 'brnp', row => row.status === 'connected', 'brnp to connect')
  })
  after(async () => {
    await member?.stop()
    member?.cleanup()
    await setup?.close()
  })

  it('bridge show lists the bridges; plugin show lists vmq_bridge without hooks', async () => {
    const rows = await bridgeRows(node)
    assert.deepEqual(rows.map(r => r.name), ['br0', 'br5', 'brnp'])
    assert.deepEqual(rows[0], {
      name: 'br0',
      endpoint: `tcp://127.0.0.1:${remote.port}`,
      status: 'connected',
      'buffer size': 0,
      'buffer max': 3,
      'buffer dropped msgs': 0,
      sent: 0,
      received: 0,
      'last error': ''
    })
    const human = await node.admin(['bridge', 'show'])
    assert.equal(human.code, 0)
    assert.match(human.stdout, /^\| name +\| endpoint +\| status +\| buffer size \| buffer max \| buffer dropped msgs \| sent \| received \| last error \|$/m)
    assert.match(human.stdout, new RegExp(`^\\| br0 +\\| tcp://127\\.0\\.0\\.1:${remote.port} \\| connected \\| 0 +\\| 3 +\\| 0 +\\| 0 +\\| 0 +\\| +\\|$`, 'm'))
    // mosquitto's view of the CONNECTs: a bridge (try_private) or a client, protocol (p1 = 3.1,
    // p2 = 3.1.1, p5 = 5), clean session 0, keep alive 60 s
    assert.match(remote.log, /New bridge connected from 127\.0\.0\.1:\d+ as vmq-br0 \(p1, c0, k60\)/)
    assert.match(remote.log, /New client connected from 127\.0\.0\.1:\d+ as vmq-br5 \(p5, c0, k60\)/)
    assert.match(remote.log, /New client connected from 127\.0\.0\.1:\d+ as vmq-brnp \(p2, c0, k60\)/)
    const plugins = JSON.parse((await node.admin(['plugin', 'show', '--format=json'])).stdout) as { table: Row[] }
    assert.deepEqual(plugins.table.find(p => p.Plugin === 'vmq_bridge'), { Plugin: 'vmq_bridge', Type: 'application', 'Hook(s)': '' })
  })

  it('out: a local publish on either member reaches mosquitto with the remote prefix and the line QoS', async () => {
    const sub = await client(remote.url)
    const seen = collect(sub)
    await sub.subscribeAsync('remote/#', { qos: 2 })
    const onNode = await client(node.mqttUrl)
    const onMember = await client(member.mqttUrl)
    await onNode.publishAsync('local/out/a', 'from node', { qos: 0 })
    await onMember.publishAsync('local/out/b', 'from member', { qos: 1 })
    await waitFor(() => seen.length >= 2, 10000, 'two messages at mosquitto')
    assert.deepEqual(seen.slice().sort((x, y) => x.topic.localeCompare(y.topic)), [
      { topic: 'remote/out/a', payload: 'from node', qos: 1, retain: false },
      { topic: 'remote/out/b', payload: 'from member', qos: 1, retain: false }
    ])
  })

  it('out, retained: the retain flag goes along, mosquitto keeps the message for later subscribers', async () => {
    const local = await client(node.mqttUrl)
    await local.publishAsync('local/out/kept', 'stays', { qos: 1, retain: true })
    const far = await client(remote.url)
    const seen = collect(far)
    await waitFor(async () => {
      await far.subscribeAsync('remote/out/kept', { qos: 1 })
      await new Promise(resolve => setTimeout(resolve, 100))
      // a copy that arrives while the subscription is already there comes live (retain 0);
      // the retained one comes with a (re)subscription
      return seen.some(m => m.retain)
    }, 10000, 'the retained message at mosquitto')
    assert.deepEqual(seen.find(m => m.retain), { topic: 'remote/out/kept', payload: 'stays', qos: 1, retain: true })
  })

  it('in: a mosquitto publish reaches the subscribers of both members with the local prefix', async () => {
    const onNode = await client(node.mqttUrl)
    const onMember = await client(member.mqttUrl)
    const seenNode = collect(onNode)
    const seenMember = collect(onMember)
    await onNode.subscribeAsync('local/in/#', { qos: 1 })
    await onMember.subscribeAsync('local/in/#', { qos: 1 })
    const pub = await client(remote.url)
    await pub.publishAsync('remote/in/x', 'hello', { qos: 1 })
    await waitFor(() => seenNode.length >= 1 && seenMember.length >= 1, 10000, 'the message on both members')
    const expected = [{ topic: 'local/in/x', payload: 'hello', qos: 1, retain: false }]
    assert.deepEqual(seenNode, expected)
    assert.deepEqual(seenMember, expected)
  })

  it('both (MQTT 5 bridge): each side gets a message once; what came in is not sent back out, and mosquitto does not echo what went out (No Local)', async () => {
    const local = await client(node.mqttUrl)
    const seenLocal = collect(local)
    await local.subscribeAsync('l/#', { qos: 1 })
    const far = await client(remote.url)
    const seenFar = collect(far)
    await far.subscribeAsync('r/#', { qos: 1 })

    await local.publishAsync('l/both/1', 'went out', { qos: 1 })
    await far.publishAsync('r/both/2', 'came in', { qos: 1 })
    await waitFor(() => topics(seenLocal).includes('l/both/2') && topics(seenFar).includes('r/both/1'), 10000, 'both messages across')
    // fences through the same bridge connection, both ways: an echo sent before them would be here by now
    await far.publishAsync('r/both/fence', 'f', { qos: 1 })
    await waitFor(() => topics(seenLocal).includes('l/both/fence'), 10000, 'the incoming fence')
    await local.publishAsync('l/both/fence2', 'f', { qos: 1 })
    await waitFor(() => topics(seenFar).includes('r/both/fence2'), 10000, 'the outgoing fence')
    assert.deepEqual(topics(seenLocal).sort(), ['l/both/1', 'l/both/2', 'l/both/fence', 'l/both/fence2'])
    assert.deepEqual(topics(seenFar).sort(), ['r/both/1', 'r/both/2', 'r/both/fence', 'r/both/fence2'])
  })

  it('in, retained (MQTT 5 bridge, Retain As Published): stored on both members, a later subscriber of the member gets it', async () => {
    const pub = await client(remote.url)
    await pub.publishAsync('r/both/kept', 'last value', { qos: 1, retain: true })
    await waitFor(async () => {
      const r = await member.admin(['retain', 'show', '--payload', '--topic', '--format=json'])
      return r.code === 0 && r.stdout.includes('l/both/kept')
    }, 10000, 'the retained message on the member')
    const late = await client(member.mqttUrl)
    const seenLate = collect(late)
    await late.subscribeAsync('l/both/kept', { qos: 1 })
    await waitFor(() => seenLate.length >= 1, 10000, 'the retained message')
    assert.deepEqual(seenLate, [{ topic: 'l/both/kept', payload: 'last value', qos: 1, retain: true }])
  })

  it('both (MQTT 3.1 bridge, try_private): mosquitto does not echo what the bridge sent, each side gets a message once', async () => {
    const local = await client(node.mqttUrl)
    const seenLocal = collect(local)
    await local.subscribeAsync('l3/#', { qos: 1 })
    const far = await client(remote.url)
    const seenFar = collect(far)
    await far.subscribeAsync('r3/#', { qos: 1 })
    await local.publishAsync('l3/loop/1', 'once', { qos: 1 })
    await waitFor(() => topics(seenFar).includes('r3/loop/1'), 10000, 'the message at mosquitto')
    // a fence in from mosquitto on the same bridge connection: an echo sent before it would be here by now
    await far.publishAsync('r3/loop/fence', 'f', { qos: 1 })
    await waitFor(() => topics(seenLocal).includes('l3/loop/fence'), 10000, 'the fence')
    assert.deepEqual(topics(seenLocal), ['l3/loop/1', 'l3/loop/fence'])
    assert.deepEqual(topics(seenFar), ['r3/loop/1', 'r3/loop/fence'])
  })

  it('both with try_private = off (MQTT 3.1.1): mosquitto echoes; the echo reaches local subscribers a second time and is not sent out again', async () => {
    const local = await client(node.mqttUrl)
    const seenLocal = collect(local)
    await local.subscribeAsync('lnp/#', { qos: 1 })
    const far = await client(remote.url)
    const seenFar = collect(far)
    await far.subscribeAsync('rnp/#', { qos: 1 })
    await local.publishAsync('lnp/np/1', 'once', { qos: 1 })
    await waitFor(() => topics(seenLocal).filter(t => t === 'lnp/np/1').length === 2, 10000, 'the echo')
    // a fence after the echo: had the bridge sent the echo out again, mosquitto would have it by now
    await local.publishAsync('lnp/np/fence', 'f', { qos: 1 })
    await waitFor(() => topics(seenFar).includes('rnp/np/fence') && topics(seenLocal).filter(t => t === 'lnp/np/fence').length === 2, 10000, 'the fence and its echo')
    assert.deepEqual(topics(seenFar), ['rnp/np/1', 'rnp/np/fence'])
    assert.deepEqual(topics(seenLocal), ['lnp/np/1', 'lnp/np/1', 'lnp/np/fence', 'lnp/np/fence'])
  })

  it('remote down: 3 messages buffered, the rest counted as dropped and logged once; delivered after the reconnect', async () => {
    // a persistent session at mosquitto (persistence on): it gets what the bridge delivers after the restart
    const far = await connect(remote.url, { clientId: 'far-sub', clean: false })
    await far.subscribeAsync('remote/out/q/#', { qos: 1 })
    await far.endAsync()
    const sentBefore = (await bridgeRows(node))[0].sent as number
    assert.equal((await bridgeRows(node))[0].name, 'br0')

    await remote.stop()
    await waitBridge(node, 'br0', row => row.status === 'disconnected', 'br0 to see mosquitto gone')
    const local = await client(node.mqttUrl)
    for (let i = 1; i <= 5; i++) await local.publishAsync(`local/out/q/${i}`, `m${i}`, { qos: 1 })
    await local.publishAsync('zero/x', 'qos0 too', { qos: 0 })
    const full = await waitBridge(node, 'br0', row => row['buffer dropped msgs'] === 3, '3 dropped messages')
    assert.equal(full['buffer size'], 3)
    assert.equal(full.status, 'disconnected')
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
    assert.match(metrics, /^vernemq_bridge_dropped_messages\{[^}]*bridge="br0"[^}]*\} 3$/m)
    assert.match(metrics, /^vernemq_bridge_buffered_messages\{[^}]*bridge="br0"[^}]*\} 3$/m)
    await waitFor(() => /dropping messages until it is back/.test(node.stdout), 5000, 'the log line')
    assert.equal(node.stdout.match(/dropping messages until it is back/g)?.length, 1)

    await remote.run()
    const back = await waitBridge(node, 'br0', row => row.status === 'connected' && row['buffer size'] === 0, 'the bridge back with its buffer sent', 20000)
    assert.equal(back['buffer dropped msgs'], 3)
    assert.equal(back.sent, sentBefore + 3)
    const again = await client(remote.url, { clientId: 'far-sub', clean: false })
    const seen = collect(again)
    await waitFor(() => seen.length >= 3, 10000, 'the 3 buffered messages at mosquitto')
    assert.deepEqual(seen.map(m => [m.topic, m.payload]), [['remote/out/q/1', 'm1'], ['remote/out/q/2', 'm2'], ['remote/out/q/3', 'm3']])
    assert.match(node.stdout, /remote broker back; messages are forwarded again/)
  })

  it('plugin disable stops the bridges (bridge show then exits 1); enable starts them again', async () => {
    const off = await node.admin(['plugin', 'disable', '-n', 'vmq_bridge'])
    assert.equal(off.code, 0, off.stderr)
    await waitFor(() => /Client vmq-br0 closed its connection/.test(remote.log), 10000, 'mosquitto to see the bridge leave')
    const show = await node.admin(['bridge', 'show'])
    assert.equal(show.code, 1)
    assert.equal(show.stderr, 'The vmq_bridge plugin is not enabled (plugins.vmq_bridge = on, or vmq-admin plugin enable -n vmq_bridge)\n')

    const on = await node.admin(['plugin', 'enable', '-n', 'vmq_bridge'])
    assert.equal(on.code, 0, on.stderr)
    await waitBridge(node, 'br0', row => row.status === 'connected', 'br0 connected again')
    const far = await client(remote.url)
    const seen = collect(far)
    await far.subscribeAsync('remote/out/again', { qos: 1 })
    const local = await client(node.mqttUrl)
    await local.publishAsync('local/out/again', 'yes', { qos: 1 })
    await waitFor(() => seen.length >= 1, 10000, 'the message through the re-enabled bridge')
    assert.deepEqual(seen, [{ topic: 'remote/out/again', payload: 'yes', qos: 1, retain: false }])
  })
})

describe('ssl bridge to mosquitto with client certificates', () => {
  let setup: Bridged | undefined
  let remote: Mosquitto
  let node: TestNode
  let clients: MqttClient[]

  before(async () => {
    const dir = tempDir('vmq-bridge-tls-test-')
    const pki = makePki(dir)
    setup = await bridged(dir, async () => await Mosquitto.start(dir, { cafile: pki.ca, certfile: pki.server.cert, keyfile: pki.server.key, requireCertificate: true }), remote => [
      `vmq_bridge.ssl.sbr0 = 127.0.0.1:${remote.port}`,
      `vmq_bridge.ssl.sbr0.cafile = ${pki.ca}`,
      `vmq_bridge.ssl.sbr0.certfile = ${pki.client.cert}`,
      `vmq_bridge.ssl.sbr0.keyfile = ${pki.client.key}`,
      'vmq_bridge.ssl.sbr0.restart_timeout = 1',
      'vmq_bridge.ssl.sbr0.topic.1 = s/# both 1 local/ remote/',
      `vmq_bridge.ssl.bad = 127.0.0.1:${remote.port}`,
      `vmq_bridge.ssl.bad.cafile = ${pki.otherCa}`,
      `vmq_bridge.ssl.bad.certfile = ${pki.client.cert}`,
      `vmq_bridge.ssl.bad.keyfile = ${pki.client.key}`,
      'vmq_bridge.ssl.bad.restart_timeout = 1',
      `vmq_bridge.ssl.lax = 127.0.0.1:${remote.port}`,
      `vmq_bridge.ssl.lax.cafile = ${pki.otherCa}`,
      `vmq_bridge.ssl.lax.certfile = ${pki.client.cert}`,
      `vmq_bridge.ssl.lax.keyfile = ${pki.client.key}`,
      'vmq_bridge.ssl.lax.insecure = on'])
    remote = setup.remote
    node = setup.node
    clients = setup.clients
    await setup.client(node.mqttUrl)
    await setup.client(remote.url, { ca: readFileSync(pki.ca), cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) })
  })
  after(async () => {
    await setup?.close()
  })

  it('connects over TLS with its certificate; a bridge that does not trust the server certificate stays disconnected with the reason', async () => {
    const sbr0 = (): Promise<Row[]> => bridgeRows(node)
    await waitFor(async () => (await sbr0()).some(r => r.name === 'sbr0' && r.status === 'connected'), 15000, 'sbr0 connected')
    await waitFor(async () => (await sbr0()).some(r => r.name === 'bad' && String(r['last error']).length > 0), 15000, 'bad with an error')
    const bad = (await sbr0()).find(r => r.name === 'bad') as Row
    assert.notEqual(bad.status, 'connected')
    assert.match(String(bad['last error']), /self[- ]signed|unable to (get|verify)/i)
    assert.equal((await sbr0()).find(r => r.name === 'sbr0')?.endpoint, `ssl://127.0.0.1:${remote.port}`)
    // insecure = on: the same untrusted certificate is accepted
    await waitFor(async () => (await sbr0()).some(r => r.name === 'lax' && r.status === 'connected'), 15000, 'lax connected')
  })

  it('carries messages both ways', async () => {
    const [local, far] = clients
    const seenLocal = collect(local)
    const seenFar = collect(far)
    await local.subscribeAsync('local/s/in', { qos: 1 })
    await far.subscribeAsync('remote/s/out', { qos: 1 })
    await local.publishAsync('local/s/out', 'tls out', { qos: 1 })
    await far.publishAsync('remote/s/in', 'tls in', { qos: 1 })
    await waitFor(() => seenLocal.length >= 1 && seenFar.length >= 1, 10000, 'both messages')
    assert.deepEqual(seenFar, [{ topic: 'remote/s/out', payload: 'tls out', qos: 1, retain: false }])
    assert.deepEqual(seenLocal, [{ topic: 'local/s/in', payload: 'tls in', qos: 1, retain: false }])
  })
})

describe('bridge with credentials and a catch-all line', () => {
  let setup: Bridged | undefined
  let remote: Mosquitto
  let node: TestNode
  let mpPort: number
  let clients: MqttClient[]

  before(async () => {
    const dir = tempDir('vmq-bridge-auth-test-')
    const passwords = join(dir, 'mosquitto.passwd')
    writeFileSync(passwords, '')
    const made = await run('mosquitto_passwd', ['-b', passwords, 'bridge-user', 's3cret'])
    assert.equal(made.code, 0, made.stderr)
    setup = await bridged(dir, async () => await Mosquitto.start(dir, undefined, false, ['allow_anonymous false', `password_file ${passwords}`]), remote => [
      `vmq_bridge.tcp.good = 127.0.0.1:${remote.port}`,
      'vmq_bridge.tcp.good.username = bridge-user',
      'vmq_bridge.tcp.good.password = s3cret',
      'vmq_bridge.tcp.good.topic.1 = # out 0 $empty all/',
      `vmq_bridge.tcp.bad = 127.0.0.1:${remote.port}`,
      'vmq_bridge.tcp.bad.username = bridge-user',
      'vmq_bridge.tcp.bad.password = wrong',
      'vmq_bridge.tcp.bad.restart_timeout = 1',
      'listener.tcp.site = 127.0.0.1:0',
      'listener.tcp.site.mountpoint = site',
      `vmq_bridge.tcp.mp = 127.0.0.1:${remote.port}`,
      'vmq_bridge.tcp.mp.username = bridge-user',
      'vmq_bridge.tcp.mp.password = s3cret',
      'vmq_bridge.tcp.mp.mountpoint = site',
      'vmq_bridge.tcp.mp.topic.1 = m/# both 1'])
    remote = setup.remote
    node = setup.node
    clients = setup.clients
    mpPort = node.port('tcp.site')
  })
  after(async () => {
    await setup?.close()
  })

  it('logs in with username and password; a wrong password shows as the last error', async () => {
    await waitBridge(node, 'good', row => row.status === 'connected', 'good connected')
    assert.match(remote.log, /New bridge connected from 127\.0\.0\.1:\d+ as [^ ]+\.good \(p1, c0, k60, u'bridge-user'\)/)
    const bad = await waitBridge(node, 'bad', row => String(row['last error']) !== '', 'bad with an error')
    assert.notEqual(bad.status, 'connected')
    assert.match(String(bad['last error']), /Not authorized|Bad username or password/)
  })

  it('a # line forwards what clients publish, not the broker\'s own $SYS messages', async () => {
    const far = await connect(remote.url, { username: 'bridge-user', password: 's3cret' })
    clients.push(far)
    const seen = collect(far)
    await far.subscribeAsync('all/#', { qos: 0 })
    // a new local client: aedes publishes $SYS/<broker>/new/clients locally
    const local = await connect(node.mqttUrl)
    clients.push(local)
    await local.publishAsync('x/y', 'hi', { qos: 1 })
    await waitFor(() => seen.length >= 1, 10000, 'the message at mosquitto')
    await local.publishAsync('x/fence', 'f', { qos: 1 })
    await waitFor(() => topics(seen).includes('all/x/fence'), 10000, 'the fence')
    assert.deepEqual(topics(seen), ['all/x/y', 'all/x/fence'])
  })

  it('mountpoint: the bridge works with the clients of its mountpoint only', async () => {
    await waitBridge(node, 'mp', row => row.status === 'connected', 'mp connected')
    const far = await connect(remote.url, { username: 'bridge-user', password: 's3cret' })
    clients.push(far)
    const seenFar = collect(far)
    await far.subscribeAsync('m/out/#', { qos: 1 })
    await far.subscribeAsync('all/m/#', { qos: 1 })
    const inSite = await connect(`mqtt://127.0.0.1:${mpPort}`)
    const outside = await connect(node.mqttUrl)
    clients.push(inSite, outside)
    const seenSite = collect(inSite)
    const seenOutside = collect(outside)
    await inSite.subscribeAsync('m/in/#', { qos: 1 })
    await outside.subscribeAsync('m/in/#', { qos: 1 })
    await far.publishAsync('m/in/1', 'to the site', { qos: 1 })
    await inSite.publishAsync('m/out/1', 'from the site', { qos: 1 })
    await waitFor(() => seenSite.length >= 1 && seenFar.length >= 1, 10000, 'both messages')
    // fences: the default mountpoint's # bridge would forward m/out/1 as all/m/out/1 before this
    await outside.publishAsync('m/fence', 'f', { qos: 1 })
    await waitFor(() => topics(seenFar).includes('all/m/fence'), 10000, 'the fence')
    assert.deepEqual(seenSite, [{ topic: 'm/in/1', payload: 'to the site', qos: 1, retain: false }])
    assert.deepEqual(topics(seenFar), ['m/out/1', 'all/m/fence'])
    assert.deepEqual(seenOutside, [])
  })
})

describe('bridge with workers = 2', () => {
  it('one bridge connection (worker 0) forwards what clients of either worker publish, once, and delivers to both', async () => {
    const dir = tempDir('vmq-bridge-workers-test-')
    const setup = await bridged(dir, async () => await Mosquitto.start(dir), remote => [
      'workers = 2',
      `vmq_bridge.tcp.br0 = 127.0.0.1:${remote.port}`,
      'vmq_bridge.tcp.br0.client_id = vmq-workers',
      'vmq_bridge.tcp.br0.topic.1 = w/# both 1 local/ remote/'])
    const { remote, node, clients } = setup
    try {
      await waitBridge(node, 'br0', row => row.status === 'connected', 'br0 connected')
      const far = await connect(remote.url)
      clients.push(far)
      const seenFar = collect(far)
      await far.subscribeAsync({ 'remote/w/out/#': { qos: 1 }, 'remote/w/fence': { qos: 1 } })
      // round robin: clients 0 and 2 on one worker, 1 and 3 on the other
      const locals = await Promise.all([0, 1, 2, 3].map(async i => await connect(node.mqttUrl, { clientId: `w${i}` })))
      clients.push(...locals)
      const seen = locals.map(collect)
      for (const c of locals) await c.subscribeAsync('local/w/in', { qos: 1 })
      for (const [i, c] of locals.entries()) await c.publishAsync(`local/w/out/${i}`, String(i), { qos: 1 })
      await far.publishAsync('remote/w/in', 'to all', { qos: 1 })
      await waitFor(() => seenFar.length >= 4 && seen.every(s => s.length >= 1), 15000, 'the messages both ways')
      // fences from both workers: a second bridge would have sent its copies before them
      for (const c of locals.slice(0, 2)) await c.publishAsync('local/w/fence', 'f', { qos: 1 })
      await waitFor(() => topics(seenFar).filter(t => t === 'remote/w/fence').length === 2, 10000, 'both fences')
      assert.deepEqual(topics(seenFar).filter(t => t !== 'remote/w/fence').sort(), ['remote/w/out/0', 'remote/w/out/1', 'remote/w/out/2', 'remote/w/out/3'])
      for (const s of seen) assert.deepEqual(s, [{ topic: 'local/w/in', payload: 'to all', qos: 1, retain: false }])
      assert.equal(remote.log.match(/New bridge connected from [^\n]* as vmq-workers /g)?.length, 1)
    } finally {
      await setup.close()
    }
  })
})

describe('bridge CONNECT protocol level', () => {
  it('try_private (default) sets the bridge bit: 0x83 for MQTT 3.1; off with mqtt_version = 4 sends 4', async () => {
    // a listener that records the first packet of each connection: the level byte is what the remote broker sees
    const levels = new Map<string, number>()
    const server = createServer(socket => {
      socket.once('data', (data: Buffer) => {
        let i = 1
        while ((data[i] & 0x80) !== 0) i++
        i++
        const nameLength = data.readUInt16BE(i)
        const level = data[i + 2 + nameLength]
        const idStart = i + 2 + nameLength + 4
        const id = data.subarray(idStart + 2, idStart + 2 + data.readUInt16BE(idStart)).toString()
        levels.set(id, level)
        socket.destroy()
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const node = await startNode({
      conf: [...OPEN_ACCESS, 'plugins.vmq_bridge = on',
        `vmq_bridge.tcp.priv = 127.0.0.1:${port}`, 'vmq_bridge.tcp.priv.client_id = priv',
        `vmq_bridge.tcp.plain = 127.0.0.1:${port}`, 'vmq_bridge.tcp.plain.client_id = plain',
        'vmq_bridge.tcp.plain.try_private = off', 'vmq_bridge.tcp.plain.mqtt_version = 4']
    })
    try {
      await waitFor(() => levels.size === 2, 10000, 'both CONNECTs')
      assert.deepEqual(Object.fromEntries(levels), { priv: 0x83, plain: 0x04 })
    } finally {
      await node.stop()
      node.cleanup()
      server.close()
    }
  })
})

describe('bridge configuration refused or unused', () => {
  it('a bad topic line, an unknown option and an address-less bridge stop the start with file:line', async () => {
    const dir = tempDir('vmq-bridge-conf-')
    const file = join(dir, 'vernemq.conf')
    writeFileSync(file, [
      'plugins.vmq_bridge = on',
      'vmq_bridge.tcp.br0 = 127.0.0.1:1889',
      'vmq_bridge.tcp.br0.topic.1 = a/# in 3',
      'vmq_bridge.tcp.br0.restart_timout = 5',
      'vmq_bridge.ssl.br1.cafile = ca.pem'
    ].join('\n') + '\n')
    const r = await vmq(['start', '-c', file])
    rmSync(dir, { recursive: true, force: true })
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), [
      'Error: invalid configuration:',
      `${file}:3: vmq_bridge.tcp.br0.topic.1: invalid topic line "a/# in 3": QoS must be 0, 1 or 2, got "3"`,
      `${file}:4: vmq_bridge.tcp.br0.restart_timout: unknown bridge option "restart_timout" (did you mean "restart_timeout"?)`,
      `${file}:5: vmq_bridge.ssl.br1.cafile: bridge br1 has options but no address (vmq_bridge.ssl.br1 = host:port)`
    ].join('\n'))
  })

  it('a TLS file that cannot be read stops the start naming the key and the file', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'plugins.vmq_bridge = on', 'vmq_bridge.ssl.sbr0 = 127.0.0.1:1889', 'vmq_bridge.ssl.sbr0.cafile = /nonexistent/ca.pem'], noWait: true })
    try {
      assert.equal(await node.waitExit(), 1)
      assert.match(node.stderr, /^Error: cannot start the node: vmq_bridge\.ssl\.sbr0\.cafile: cannot read \/nonexistent\/ca\.pem: no such file$/m)
    } finally {
      node.cleanup()
    }
  })

  it('bridges configured with plugins.vmq_bridge = off: a warning at start, bridge show exits 1', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'vmq_bridge.tcp.br0 = 127.0.0.1:1889', 'vmq_bridge.tcp.br0.topic.1 = a/#', 'vmq_bridge.tcp.br0.persistent_queue = on'] })
    try {
      assert.match(node.stdout, /\[warning\] bridges are configured \(vmq_bridge\.\*\) but plugins\.vmq_bridge = off: they do not run/)
      assert.match(node.stdout, /\[warning\] [^\n]*vernemq\.conf:\d+: vmq_bridge\.tcp\.br0\.persistent_queue is a VerneMQ bridge option vmq-ts does not use; ignored/)
      const show = await node.admin(['bridge', 'show'])
      assert.equal(show.code, 1)
      assert.equal(show.stderr, 'The vmq_bridge plugin is not enabled (plugins.vmq_bridge = on, or vmq-admin plugin enable -n vmq_bridge)\n')
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
