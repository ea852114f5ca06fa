// auth_on_register(_m5) client_id and mountpoint modifiers (VerneMQ's subscriber
// id): the client's session is registered under the id and in the mountpoint
// the endpoint answered with, whatever listener it came through.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect } from 'node:net'
import mqttPacket, { type IConnackPacket, type IPublishPacket, type Packet } from 'mqtt-packet'
import { RawClient } from './helpers/raw.js'
import { RawClient5 } from './helpers/raw5.js'
import type { MqttClient } from 'mqtt'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { spawn } from 'node:child_process'
import { VMQ, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'
import { WebhookServer, type HookCall, type Reply } from './helpers/webhook-server.js'

/** What auth_on_register(_m5) answers, by the client id sent (else by the username). */
const MODIFIERS: Record<string, Record<string, unknown>> = {
  mover: { client_id: 'other', mountpoint: 'mp1' },
  mover5: { client_id: 'other5', mountpoint: 'mp1' },
  'mover-ws': { client_id: 'other-ws', mountpoint: 'mp1' },
  'mover-proxied': { client_id: 'other-proxied', mountpoint: 'mp1' },
  'taker-1': { client_id: 'taken', mountpoint: 'mp1' },
  'taker-2': { client_id: 'taken', mountpoint: 'mp1' },
  'trace-me': { client_id: 'traced-moved', mountpoint: 'mp1' },
  'roam-a': { client_id: 'roamer', mountpoint: 'mp1' },
  'roam-b': { client_id: 'roamer', mountpoint: 'mp1' },
  'roam-pub': { client_id: 'roam-pub', mountpoint: 'mp1' },
  'empty-id': { client_id: 'from-empty', mountpoint: 'mp1' },
  'empty-id-3': { client_id: 'from-empty-3', mountpoint: 'mp1' },
  enhanced: { client_id: 'never', mountpoint: 'mp1' }
}

function answer (call: HookCall): Reply {
  if (call.hook === 'on_auth_m5') return { json: { result: 'ok', modifiers: { reason_code: 0, properties: { p_authentication_method: 'M' } } } }
  if (!call.hook.startsWith('auth_on_register')) return { json: { result: 'ok' } }
  const modifiers = MODIFIERS[String(call.body.client_id)] ?? MODIFIERS[String(call.body.username)]
  return { json: modifiers === undefined ? { result: 'ok' } : { result: 'ok', modifiers } }
}

interface SessionRow { client_id: string, mountpoint: string, is_online: boolean }

describe('vmq_webhooks auth_on_register client_id and mountpoint', () => {
  let hooks: WebhookServer
  let node: TestNode
  /** subscribed to # on the mp1 listener, and on the default one */
  let inMp1: MqttClient
  let inDefault: MqttClient
  let seenMp1: Received[]
  let seenDefault: Received[]

  before(async () => {
    hooks = await WebhookServer.start(answer)
    const conf = ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on',
      'listener.tcp.mp1 = 127.0.0.1:0', 'listener.tcp.mp1.mountpoint = mp1', 'mqtt_connect_timeout = 1000',
      'listener.tcp.proxied = 127.0.0.1:0', 'listener.tcp.proxied.proxy_protocol = on']
    for (const [i, hook] of ['auth_on_register', 'auth_on_register_m5', 'on_register', 'on_register_m5', 'on_auth_m5'].entries()) {
      conf.push(`vmq_webhooks.h${i}.hook = ${hook}`, `vmq_webhooks.h${i}.endpoint = ${hooks.url('/' + hook)}`)
    }
    node = await startNode({ conf })
    inMp1 = await connect(`mqtt://127.0.0.1:${node.port('tcp.mp1')}`, { clientId: 'sub-mp1', username: 'u', password: 'p' })
    inDefault = await connect(node.mqttUrl, { clientId: 'sub-default', username: 'u', password: 'p' })
    await inMp1.subscribeAsync('#', { qos: 1 })
    await inDefault.subscribeAsync('#', { qos: 1 })
    seenMp1 = collect(inMp1)
    seenDefault = collect(inDefault)
  })
  after(async () => {
    await endAll(inMp1, inDefault)
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  async function sessions (): Promise<SessionRow[]> {
    const shown = await node.admin(['session', 'show', '--client_id', '--mountpoint', '--is_online', '--format=json'])
    assert.equal(shown.code, 0, shown.stderr)
    return (JSON.parse(shown.stdout) as { table: SessionRow[] }).table
  }

  /** A marker published in the default mountpoint has reached its subscriber: what came before it has too. */
  async function markDefault (name: string): Promise<void> {
    const marker = await connect(node.mqttUrl, { clientId: `marker-${name}`, username: 'u', password: 'p' })
    await marker.publishAsync(`marker/${name}`, 'm', { qos: 1 })
    await waitFor(() => seenDefault.some(m => m.topic === `marker/${name}`), 5000, `marker/${name} in the default mountpoint`)
    await endAll(marker)
  }

  async function checkMoved (sent: string, registered: string, version: 4 | 5, url = node.mqttUrl): Promise<void> {
    const hook = version === 5 ? 'auth_on_register_m5' : 'auth_on_register'
    const client = await connect(url, { clientId: sent, username: 'u', password: 'p', protocolVersion: version })
    const got = collect(client)
    await client.subscribeAsync(`back/${sent}`, { qos: 1 })
    await client.publishAsync(`moved/${sent}`, 'hello', { qos: 1 })
    await waitFor(() => seenMp1.some(m => m.topic === `moved/${sent}`), 5000, `moved/${sent} in mp1`)
    await inMp1.publishAsync(`back/${sent}`, 'answer', { qos: 1 })
    await waitFor(() => got.some(m => m.topic === `back/${sent}`), 5000, `back/${sent} from mp1`)
    await markDefault(sent)
    assert.deepEqual(seenDefault.filter(m => m.topic.startsWith(`moved/${sent}`) || m.topic.startsWith(`back/${sent}`)), [])
    const rows = await sessions()
    assert.deepEqual(rows.filter(r => r.client_id === registered || r.client_id === sent), [{ client_id: registered, is_online: true, mountpoint: 'mp1' }])
    // asked once, with what the client sent; told of the registration under the new id
    assert.deepEqual(hooks.of(hook).filter(c => c.body.client_id === sent).map(c => c.body.mountpoint), [''])
    const registeredCall = hooks.of(version === 5 ? 'on_register_m5' : 'on_register').find(c => c.body.client_id === registered)
    assert.equal(registeredCall?.body.mountpoint, 'mp1')
    assert.equal(hooks.calls.some(c => c.hook.startsWith('on_register') && c.body.client_id === sent), false)
    await endAll(client)
  }

  it('MQTT 3.1.1: the client publishes and subscribes in mp1 as "other"; session show and on_register say so', async () => {
    await checkMoved('mover', 'other', 4)
  })

  it('MQTT 5 (auth_on_register_m5): the same', async () => {
    await checkMoved('mover5', 'other5', 5)
  })

  it('over WebSocket: the same', async () => {
    await checkMoved('mover-ws', 'other-ws', 4, `ws://127.0.0.1:${node.wsPort}/mqtt`)
  })

  it('behind a PROXY header sent with the CONNECT in one write: the hook gets the proxied address, the client lands in mp1', async () => {
    const connectBytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'mover-proxied', keepalive: 60, username: 'u', password: Buffer.from('p') })
    const raw = await RawClient.openWithBytes(node.port('tcp.proxied'), Buffer.concat([Buffer.from('PROXY TCP4 203.0.113.9 127.0.0.1 4444 1883\r\n'), connectBytes]))
    assert.equal((await raw.next('connack') as IConnackPacket).returnCode, 0)
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'proxied/#', qos: 0 }] } as Packet)
    await raw.next('suback')
    await inMp1.publishAsync('proxied/x', 'through the proxy', { qos: 0 })
    assert.equal((await raw.next('publish') as IPublishPacket).payload.toString(), 'through the proxy')
    assert.deepEqual(hooks.of('auth_on_register').filter(c => c.body.client_id === 'mover-proxied').map(c => [c.body.peer_addr, c.body.peer_port]), [['203.0.113.9', 4444]])
    raw.close()
  })

  it('trace client with the registered client id and mountpoint shows the connection from its CONNECT', async () => {
    const trace = spawn(process.execPath, [VMQ, 'trace', 'client', 'client-id=traced-moved', '--mountpoint=mp1', '--node', node.adminAddress], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    trace.stdout.on('data', (d: Buffer) => { out += d.toString() })
    trace.stderr.on('data', (d: Buffer) => { out += d.toString() })
    try {
      await waitFor(() => out.includes('No sessions found for client "traced-moved" in mountpoint'), 10000, `the trace waiting (so far: ${out})`)
      const client = await connect(node.mqttUrl, { clientId: 'trace-me', username: 'u', password: 'p' })
      await waitFor(() => /MQTT SEND: CID: "traced-moved" CONNACK\(sp: 0, rc: 0 success\)/.test(out), 10000, `the CONNACK traced (so far: ${out})`)
      assert.match(out, /MQTT RECV: CID: "traced-moved" CONNECT\(c: "trace-me", v: 4, u: "u", /)
      await endAll(client)
    } finally {
      trace.kill('SIGKILL')
    }
  })

  it('a second connection given the same client id and mountpoint takes the session over, with its subscriptions and queued messages', async () => {
    const first = await connect(node.mqttUrl, { clientId: 'taker-1', username: 'u', password: 'p', clean: false })
    await first.subscribeAsync('take/#', { qos: 1 })
    let firstClosed = false
    first.on('close', () => { firstClosed = true })
    const second = await connect(node.mqttUrl, { clientId: 'taker-2', username: 'u', password: 'p', clean: false })
    await waitFor(() => firstClosed, 5000, 'the first connection closed by the takeover')
    const got = collect(second)
    await inMp1.publishAsync('take/x', 'after takeover', { qos: 1 })
    await waitFor(() => got.some(m => m.topic === 'take/x'), 5000, 'take/x through the subscription the first connection made')
    assert.deepEqual(got, [{ topic: 'take/x', payload: 'after takeover', qos: 1, retain: false }])
    assert.deepEqual((await sessions()).filter(r => r.client_id.startsWith('tak')), [{ client_id: 'taken', is_online: true, mountpoint: 'mp1' }])
    first.end(true)
    await endAll(second)
  })

  it('a connection that sends part of a CONNECT is closed at mqtt_connect_timeout, and no hook is asked', async () => {
    const calls = hooks.calls.length
    const socket = netConnect(node.mqttPort, '127.0.0.1')
    const opened = Date.now()
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    // fixed header of a 40-byte CONNECT, then silence
    socket.write(Buffer.from([0x10, 40, 0]))
    await new Promise<void>(resolve => socket.once('close', () => resolve()))
    const elapsed = Date.now() - opened
    assert.ok(elapsed >= 950 && elapsed < 5000, `closed after ${elapsed} ms`)
    assert.equal(hooks.calls.length, calls)
  })

  it('an empty client id is given a random one before the hook is asked (MQTT 5: the CONNACK assigns that one); the client is registered as the hook says', async () => {
    const { raw: empty5, connack } = await RawClient5.connect(node.mqttPort, '', { username: 'empty-id', password: Buffer.from('p') })
    assert.equal(connack.reasonCode, 0)
    const empty3 = await connect(node.mqttUrl, { clientId: '', username: 'empty-id-3', password: 'p', clean: true })
    const asked5 = hooks.of('auth_on_register_m5').filter(c => c.body.username === 'empty-id')
    const asked3 = hooks.of('auth_on_register').filter(c => c.body.username === 'empty-id-3')
    assert.equal(asked5.length, 1)
    assert.equal(asked3.length, 1)
    assert.match(String(asked5[0].body.client_id), /^anon-[\w-]{20}$/)
    assert.match(String(asked3[0].body.client_id), /^anon-[\w-]{20}$/)
    assert.equal(connack.properties?.assignedClientIdentifier, asked5[0].body.client_id)
    const rows = (await sessions()).filter(r => r.client_id.startsWith('from-empty') || r.client_id.startsWith('anon-'))
    assert.deepEqual(rows, [{ client_id: 'from-empty', is_online: true, mountpoint: 'mp1' }, { client_id: 'from-empty-3', is_online: true, mountpoint: 'mp1' }])
    empty5.close()
    await endAll(empty3)
  })

  it('the modifiers are not logged as having no effect; after MQTT 5 enhanced authentication they are not applied, and the log says so', async () => {
    const enhanced = await connect(node.mqttUrl, { clientId: 'enhanced', username: 'enhanced', password: 'p', protocolVersion: 5, properties: { authenticationMethod: 'M' } })
    await waitFor(() => node.stdout.includes('modifiers client_id and mountpoint not applied: the client authenticated with an Authentication Method (enhanced authentication)'), 5000, 'the line on the ignored modifiers')
    assert.deepEqual((await sessions()).filter(r => r.client_id === 'enhanced' || r.client_id === 'never'), [{ client_id: 'enhanced', is_online: true, mountpoint: '' }])
    await endAll(enhanced)
    assert.doesNotMatch(node.stdout, /modifier client_id and mountpoint has no effect/)
  })
})

describe('vmq_webhooks auth_on_register client_id and mountpoint in a cluster', () => {
  it('a connection on another member given the same client id and mountpoint takes the session over, with its subscription', async () => {
    const hooks = await WebhookServer.start(answer)
    const conf = ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on',
      'vmq_webhooks.r.hook = auth_on_register', `vmq_webhooks.r.endpoint = ${hooks.url('/r')}`]
    const n1 = await startNode({ conf })
    const n2 = await startNode({ conf: [...conf, `discovery_node = ${n1.adminAddress}`] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      const first = await connect(n1.mqttUrl, { clientId: 'roam-a', username: 'u', password: 'p', clean: false })
      await first.subscribeAsync('roam/#', { qos: 1 })
      let firstClosed = false
      first.on('close', () => { firstClosed = true })
      const second = await connect(n2.mqttUrl, { clientId: 'roam-b', username: 'u', password: 'p', clean: false })
      await waitFor(() => firstClosed, 5000, 'the connection on the first member closed by the takeover')
      const got = collect(second)
      const pub = await connect(n2.mqttUrl, { clientId: 'roam-pub', username: 'u', password: 'p' })
      await pub.publishAsync('roam/x', 'in mp1', { qos: 1 })
      await waitFor(() => got.some(m => m.topic === 'roam/x'), 5000, 'roam/x through the subscription made on the first member')
      assert.deepEqual(got, [{ topic: 'roam/x', payload: 'in mp1', qos: 1, retain: false }])
      const shown = await n1.admin(['session', 'show', '--client_id', '--mountpoint', '--is_online', '--client_id=roamer', '--format=json'])
      assert.equal(shown.code, 0, shown.stderr)
      assert.deepEqual((JSON.parse(shown.stdout) as { table: unknown[] }).table, [{ client_id: 'roamer', is_online: true, mountpoint: 'mp1' }])
      first.end(true)
      await endAll(second, pub)
    } finally {
      await n2.stop()
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
      await hooks.stop()
    }
  })
})
