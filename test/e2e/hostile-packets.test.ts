// Single packets that used to stop a node: each one now closes (or is handled
// on) its own connection, and the node goes on serving everyone else.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { OPEN_ACCESS, startNode, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'
import { connect } from './helpers/mqtt.js'

/** A v5 CONNECT built by hand, for property blocks mqtt-packet will not encode. */
function connect5 (clientId: string, properties: number[]): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([5, 0x02, 0, 60, properties.length]), Buffer.from(properties),
    Buffer.from([0, clientId.length]), Buffer.from(clientId)
  ])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}

/** The CONNACK/DISCONNECT code: v5 reasonCode, 3.1.1 returnCode. */
function code (packet: Packet): number | undefined {
  const p = packet as { reasonCode?: number, returnCode?: number }
  return p.reasonCode ?? p.returnCode
}

const SESSION_EXPIRY_10 = [0x11, 0, 0, 0, 10]

/** CONNECT and a QoS 1 PUBLISH larger than one socket read, in one write. */
function connectThenBigPublish (clientId: string, version: 4 | 5): Buffer {
  const connectPacket = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clean: true, clientId, keepalive: 60 })
  const publish = mqttPacket.generate({ cmd: 'publish', topic: 'big/one', qos: 1, messageId: 7, payload: Buffer.alloc(70_000, 1), retain: false, dup: false }, { protocolVersion: version })
  return Buffer.concat([connectPacket, publish])
}

async function assertServing (node: TestNode): Promise<void> {
  assert.equal(node.exitCode, undefined, `node exited: ${node.stderr}`)
  const client = await connect(node.mqttUrl, { clientId: `alive${Math.floor(Math.random() * 1e6)}` })
  await client.publishAsync('alive/check', 'x', { qos: 1 })
  await client.endAsync()
}

describe('a PUBLISH in the same write as its CONNECT, larger than one read', () => {
  let open: TestNode
  let closed: TestNode
  before(async () => {
    [open, closed] = await Promise.all([startNode({ conf: OPEN_ACCESS }), startNode({ conf: ['allow_anonymous = off'] })])
  })
  after(async () => {
    await Promise.all([open.stop(), closed.stop()])
    open.cleanup()
    closed.cleanup()
  })

  for (const version of [4, 5] as const) {
    it(`waits for the CONNECT and is acknowledged (MQTT ${version === 4 ? '3.1.1' : '5'})`, async () => {
      for (let i = 0; i < 3; i++) {
        const raw = await RawClient.openWithBytes(open.mqttPort, connectThenBigPublish(`big${version}-${i}`, version), version)
        const connack = await raw.next('connack')
        assert.equal(code(connack), 0)
        const puback = await raw.next('puback')
        assert.equal(puback.messageId, 7)
        raw.close()
      }
      await assertServing(open)
    })
  }

  it('is refused with the CONNECT when the client may not connect, and the node goes on', async () => {
    for (let i = 0; i < 3; i++) {
      const raw = await RawClient.openWithBytes(closed.mqttPort, connectThenBigPublish(`anon${i}`, 4))
      const connack = await raw.next('connack')
      assert.equal(code(connack), 5)
      await raw.waitClosed()
      assert.equal(raw.received('puback').length, 0)
    }
    assert.equal(closed.exitCode, undefined, `node exited: ${closed.stderr}`)
    const raw = await RawClient.open(closed.mqttPort)
    assert.equal(code(await raw.next('connack')), 5)
    raw.close()
  })
})

describe('MQTT 5 property blocks a client may not send', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => {
    await node.stop()
    node.cleanup()
  })

  it('a CONNECT with Session Expiry Interval twice gets CONNACK 0x82 (Protocol Error) and is closed', async () => {
    const raw = await RawClient.openWithBytes(node.mqttPort, connect5('dup-connect', [...SESSION_EXPIRY_10, ...SESSION_EXPIRY_10]), 5)
    const connack = await raw.next('connack')
    assert.equal(code(connack), 0x82)
    await raw.waitClosed()
  })

  it('a repeated property is refused even when the first value is 0', async () => {
    const raw = await RawClient.openWithBytes(node.mqttPort, connect5('dup-zero', [0x11, 0, 0, 0, 0, 0x11, 0, 0, 0, 10]), 5)
    assert.equal(code(await raw.next('connack')), 0x82)
    await raw.waitClosed()
  })

  it('a DISCONNECT with Session Expiry Interval twice gets DISCONNECT 0x82, and the node outlives the session timer', async () => {
    const raw = await RawClient.openWithBytes(node.mqttPort, connect5('dup-disconnect', SESSION_EXPIRY_10), 5)
    assert.equal(code(await raw.next('connack')), 0)
    raw.sendBytes(Buffer.from([0xe0, 12, 0x00, 10, ...SESSION_EXPIRY_10, ...SESSION_EXPIRY_10]))
    const disconnect = await raw.next('disconnect')
    assert.equal(code(disconnect), 0x82)
    await raw.waitClosed()
    // The node used to exit about 2 s after such a session closed (its expiry
    // timer got two values); nothing here can be waited for but that window.
    await new Promise(resolve => setTimeout(resolve, 3000))
    await assertServing(node)
  })

  it('a PUBLISH whose Response Topic runs past its property block gets DISCONNECT 0x81 (Malformed Packet)', async () => {
    const raw = await RawClient.openWithBytes(node.mqttPort, connect5('cut-response-topic', []), 5)
    assert.equal(code(await raw.next('connack')), 0)
    raw.sendBytes(Buffer.from('300a0004667a2f7202080078', 'hex'))
    const disconnect = await raw.next('disconnect')
    assert.equal(code(disconnect), 0x81)
    await raw.waitClosed()
    await assertServing(node)
  })

  it('a PUBLISH carrying a Subscription Identifier gets DISCONNECT 0x82 (MQTT-3.3.4-6)', async () => {
    const raw = await RawClient.openWithBytes(node.mqttPort, connect5('sends-sub-id', []), 5)
    assert.equal(code(await raw.next('connack')), 0)
    // topic "a", properties: subscription identifier 5
    raw.sendBytes(Buffer.from([0x30, 6, 0, 1, 0x61, 2, 0x0b, 5]))
    assert.equal(code(await raw.next('disconnect')), 0x82)
    await raw.waitClosed()
  })

  it('a property string with invalid UTF-8 gets DISCONNECT 0x81', async () => {
    const raw = await RawClient.openWithBytes(node.mqttPort, connect5('bad-utf8-prop', []), 5)
    assert.equal(code(await raw.next('connack')), 0)
    // topic "a", content type of two bytes 0xc3 0x28 (a broken two-byte sequence)
    raw.sendBytes(Buffer.from([0x30, 9, 0, 1, 0x61, 5, 0x03, 0, 2, 0xc3, 0x28]))
    assert.equal(code(await raw.next('disconnect')), 0x81)
    await raw.waitClosed()
    await assertServing(node)
  })
})
