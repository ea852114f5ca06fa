// guardPackets over a real aedes: an exception while a packet is handled closes
// that connection only, and packets after a CONNECT still being handled wait for it.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { Aedes } from 'aedes'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { guardPackets } from '../../../../src/broker/delivery/adapter-guard.js'

describe('guardPackets', () => {
  let broker: Aedes
  let server: Server
  let port: number
  const failures: string[] = []
  let authDelayMs = 0
  const clientIdsAtPublish: Array<string | null> = []
  const topicsAtPublish: string[] = []

  before(async () => {
    broker = await Aedes.createBroker({
      authenticate: (_client, _user, _password, done) => { setTimeout(() => done(null, true), authDelayMs) },
      authorizePublish: (client, packet, callback) => {
        clientIdsAtPublish.push(client?.id ?? null)
        topicsAtPublish.push(packet.topic)
        if (packet.topic === 'boom') throw new TypeError('hook failed')
        // a read handed to the parser while a packet of the read before is handled
        if (packet.topic === 'reenter') (client as unknown as { _parser: { parse: (b: Buffer) => number } })._parser.parse(publish('late'))
        callback(null)
      }
    })
    server = createServer(socket => {
      const client = broker.handle(socket)
      guardPackets(client, { refused: () => {}, failed: (_c, cmd, err) => { failures.push(`${cmd}: ${(err as Error).message}`) } })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })

  after(async () => {
    await new Promise<void>(resolve => broker.close(() => resolve()))
    await new Promise<void>(resolve => server.close(() => resolve()))
  })

  async function open (): Promise<{ socket: Socket, packets: Packet[], closed: Promise<void> }> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>(resolve => socket.once('connect', resolve))
    const packets: Packet[] = []
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', p => packets.push(p))
    socket.on('data', d => parser.parse(d))
    socket.on('error', () => {})
    return { socket, packets, closed: new Promise(resolve => socket.once('close', () => resolve())) }
  }

  const publish = (topic: string): Buffer => mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0, retain: false, dup: false })
  const boom = mqttPacket.generate({ cmd: 'publish', topic: 'boom', payload: Buffer.from('x'), qos: 0, retain: false, dup: false })
  const connect = (clientId: string): Buffer => mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0 })

  it('closes the connection whose packet made a hook throw, and reports it', async () => {
    const { socket, packets, closed } = await open()
    socket.write(connect('thrower'))
    for (let i = 0; i < 300 && packets.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(packets.map(p => p.cmd), ['connack'])
    socket.write(boom)
    await closed
    assert.deepEqual(failures.splice(0), ['publish: hook failed'])
  })

  it('a read handed to the parser while a PUBLISH read in one pass is handled comes after the rest of its read', async () => {
    const { socket, packets } = await open()
    socket.write(connect('reentrant'))
    for (let i = 0; i < 300 && packets.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    topicsAtPublish.length = 0
    socket.write(Buffer.concat([publish('reenter'), publish('after')]))
    for (let i = 0; i < 300 && topicsAtPublish.length < 3; i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(topicsAtPublish, ['reenter', 'after', 'late'])
    socket.destroy()
  })

  it('does the same for a packet that waited for its CONNECT', async () => {
    const { socket, closed } = await open()
    socket.write(Buffer.concat([connect('early-thrower'), boom]))
    await closed
    assert.deepEqual(failures.splice(0), ['publish: hook failed'])
  })

  it('holds a PUBLISH that arrives while its CONNECT is still authenticating', async () => {
    authDelayMs = 100
    clientIdsAtPublish.length = 0
    const { socket, packets } = await open()
    const big = mqttPacket.generate({ cmd: 'publish', topic: 'held', payload: Buffer.alloc(70_000), qos: 1, messageId: 3, retain: false, dup: false })
    socket.write(Buffer.concat([connect('slow-auth'), big]))
    for (let i = 0; i < 300 && !packets.some(p => p.cmd === 'puback'); i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(packets.map(p => p.cmd), ['connack', 'puback'])
    assert.deepEqual(clientIdsAtPublish, ['slow-auth'])
    socket.destroy()
  })
})

describe('guardPackets with an enhanced authentication exchange (3.)', () => {
  it('a CONNECT held back from aedes lets aedes read the client\'s AUTH; released, aedes handles the CONNECT as if it had just come', async () => {
    const broker = await Aedes.createBroker()
    const auths: Array<number | undefined> = []
    let release: (() => void) | undefined
    const server = createServer(socket => {
      const client = broker.handle(socket)
      guardPackets(client, {
        refused: () => {},
        failed: () => {},
        exchange: {
          connect: (_client, packet, go) => {
            if (packet.properties?.authenticationMethod === undefined) return false
            delete packet.properties.authenticationMethod
            release = go
            return true
          },
          takesAuth: () => true,
          auth: (_client, packet) => { auths.push((packet as { reasonCode?: number }).reasonCode) }
        }
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const socket = netConnect((server.address() as { port: number }).port, '127.0.0.1')
      await new Promise<void>(resolve => socket.once('connect', resolve))
      const packets: Packet[] = []
      const parser = mqttPacket.parser({ protocolVersion: 5 })
      parser.on('packet', p => packets.push(p))
      socket.on('data', d => parser.parse(d))
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'held', keepalive: 0, properties: { authenticationMethod: 'M' } }, { protocolVersion: 5 }))
      for (let i = 0; i < 300 && release === undefined; i++) await new Promise(resolve => setTimeout(resolve, 10))
      socket.write(mqttPacket.generate({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'M' } }, { protocolVersion: 5 }))
      for (let i = 0; i < 300 && auths.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
      assert.deepEqual(auths, [0x18])
      assert.equal(packets.length, 0, 'nothing answered while the CONNECT is held')
      release?.()
      for (let i = 0; i < 300 && packets.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
      assert.deepEqual(packets.map(p => [p.cmd, (p as { reasonCode?: number }).reasonCode]), [['connack', 0]])
      socket.destroy()
    } finally {
      await new Promise<void>(resolve => broker.close(() => resolve()))
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  })
})
