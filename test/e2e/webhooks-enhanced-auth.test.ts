// MQTT 5 enhanced authentication through an on_auth_m5 webhook: AUTH packets
// between a raw MQTT 5 client and the endpoint, as VerneMQ exchanges them.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { IAuthPacket, IConnackPacket, IDisconnectPacket, Packet } from 'mqtt-packet'
import { startNode, waitFor, type TestNode } from './helpers/processes.js'
import { RawClient5 } from './helpers/raw5.js'
import { WebhookServer, type HookCall, type Reply } from './helpers/webhook-server.js'

const METHOD = 'TOKEN-ROUNDS'
const b64 = (text: string): string => Buffer.from(text).toString('base64')

/** The endpoint: "hello" is challenged, "response" accepted, "direct" accepted at once, anything else refused. */
function answer (call: HookCall): Reply {
  if (call.hook !== 'on_auth_m5') return { json: { result: 'ok' } }
  const props = call.body.properties as Record<string, unknown>
  const data = Buffer.from(String(props.p_authentication_data ?? ''), 'base64').toString()
  const ok = (reasonCode: number, reply: string, method = METHOD): Reply => ({ json: { result: 'ok', modifiers: { reason_code: reasonCode, properties: { p_authentication_method: method, p_authentication_data: b64(reply) } } } })
  if (data === 'hello') return ok(24, 'challenge')
  if (data === 'response' || data === 'direct') return ok(0, 'welcome')
  if (data === 'other-method') return ok(0, 'welcome', 'SOMETHING-ELSE')
  return { json: { result: { error: 'not_allowed' } } }
}

function connectWith (data: string): Record<string, unknown> {
  return { username: 'alice', properties: { authenticationMethod: METHOD, authenticationData: Buffer.from(data) } }
}

describe('vmq_webhooks on_auth_m5: MQTT 5 enhanced authentication', () => {
  let hooks: WebhookServer
  let node: TestNode

  before(async () => {
    hooks = await WebhookServer.start(answer)
    const conf = ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on']
    for (const [i, hook] of ['on_auth_m5', 'auth_on_register_m5'].entries()) {
      conf.push(`vmq_webhooks.h${i}.hook = ${hook}`, `vmq_webhooks.h${i}.endpoint = ${hooks.url('/' + hook)}`)
    }
    node = await startNode({ conf })
  })
  after(async () => {
    await node.stop()
    node.cleanup()
    await hooks.stop()
  })

  it('CONNECT, AUTH 0x18 challenge, AUTH 0x18 response, CONNACK 0 with the method and the endpoint\'s data; then auth_on_register_m5; re-authentication gets AUTH 0x00', async () => {
    const raw = await RawClient5.open(node.mqttPort, 'ea-1', connectWith('hello'))
    const challenge = await raw.next('auth') as IAuthPacket
    assert.equal(challenge.reasonCode, 0x18)
    assert.equal(challenge.properties?.authenticationMethod, METHOD)
    assert.equal(challenge.properties?.authenticationData?.toString(), 'challenge')
    assert.deepEqual(hooks.of('on_auth_m5')[0].body, { username: 'alice', mountpoint: '', client_id: 'ea-1', properties: { p_authentication_method: METHOD, p_authentication_data: b64('hello') } })
    raw.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: Buffer.from('response') } } as Packet)
    const connack = await raw.next('connack') as IConnackPacket
    assert.equal(connack.reasonCode, 0)
    assert.equal(connack.properties?.authenticationMethod, METHOD)
    assert.equal(connack.properties?.authenticationData?.toString(), 'welcome')
    const register = hooks.of('auth_on_register_m5').find(c => c.body.client_id === 'ea-1')
    assert.deepEqual(register?.body.properties, { p_authentication_method: METHOD, p_authentication_data: b64('hello') })
    // the connection works
    await raw.subscribe('ea/#', 1)
    // re-authentication
    raw.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD, authenticationData: Buffer.from('response') } } as Packet)
    const again = await raw.next('auth') as IAuthPacket
    assert.equal(again.reasonCode, 0)
    assert.equal(again.properties?.authenticationData?.toString(), 'welcome')
    // a refused re-authentication disconnects
    raw.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD, authenticationData: Buffer.from('wrong') } } as Packet)
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x87)
    await raw.waitClosed()
  })

  it('success at the CONNECT: CONNACK at once, no AUTH', async () => {
    const raw = await RawClient5.open(node.mqttPort, 'ea-2', connectWith('direct'))
    const connack = await raw.next('connack') as IConnackPacket
    assert.equal(connack.reasonCode, 0)
    assert.equal(connack.properties?.authenticationData?.toString(), 'welcome')
    assert.deepEqual(raw.received('auth'), [])
    raw.close()
  })

  it('a refusal, an answer for another method, or an AUTH for another method close the connection without a CONNACK', async () => {
    for (const data of ['wrong', 'other-method']) {
      const raw = await RawClient5.open(node.mqttPort, `ea-${data}`, connectWith(data))
      await raw.waitClosed()
      assert.deepEqual(raw.packets.map(p => p.cmd), [], data)
    }
    const raw = await RawClient5.open(node.mqttPort, 'ea-switch', connectWith('hello'))
    await raw.next('auth')
    raw.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SOMETHING-ELSE', authenticationData: Buffer.from('response') } } as Packet)
    await raw.waitClosed()
    assert.deepEqual(raw.packets.map(p => p.cmd), [])
    await waitFor(() => node.stdout.includes("can't continue enhanced authentication"), 5000, 'the log line')
  })

  it('an AUTH from a client that did not authenticate this way is a protocol error (DISCONNECT 0x82)', async () => {
    const raw = await RawClient5.ready(node.mqttPort, 'ea-plain')
    raw.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD } } as Packet)
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x82)
    await raw.waitClosed()
  })
})
