// Pins the aedes 2.0.0-beta.1 behaviours the CONNECT/CONNACK and inbound parts
// of src/broker/delivery/adapter.ts rely on (items 8 to 11, 13 and 15 there).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect as netConnect, type Server } from 'node:net'
import { Aedes, type Client } from 'aedes'
import type { IConnackPacket, IDisconnectPacket, ISubackPacket, Packet } from 'mqtt-packet'
import {
  liftShareRefusal, restoreShareRefusal, connectAs, skipPublish, editSuback, onConnack, setTopicAliasMaximum
} from '../../../../src/broker/delivery/adapter.js'
import { RawClient } from '../../../e2e/helpers/raw.js'

describe('aedes behaviours the CONNECT and CONNACK handling relies on', () => {
  let broker: Aedes
  let server: Server
  let port: number
  /** what the test does with each new connection */
  let prepare: (client: Client) => void = () => {}
  let dropPublishes = false
  /** subscriptions refused by authorizeSubscribe, with the SUBSCRIBE packet each came in */
  const refuse = new Set<string>()
  const subscribePackets: Array<{ messageId?: number, subscriptions: object[] }> = []

  before(async () => {
    broker = await Aedes.createBroker({
      authorizePublish: (_client, packet, callback) => {
        if (dropPublishes) skipPublish(packet)
        callback(null)
      },
      authorizeSubscribe: (_client, sub, callback) => { callback(null, refuse.has(sub.topic) ? null : sub) }
    })
    server = createServer(socket => { prepare(broker.handle(socket)) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })

  after(async () => {
    await new Promise<void>(resolve => broker.close(() => resolve()))
    await new Promise<void>(resolve => server.close(() => resolve()))
  })

  async function open (clientId: string): Promise<{ raw: RawClient, connack: IConnackPacket }> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>(resolve => socket.once('connect', resolve))
    const raw = RawClient.wrap(socket, 5)
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 60 })
    return { raw, connack: await raw.next('connack') as IConnackPacket }
  }

  it('9. the CONNACK is the first write on client.conn and can be rewritten whole', async () => {
    prepare = client => {
      onConnack(client, () => 5, connack => {
        connack.sessionPresent = true
        connack.properties = { ...connack.properties, serverKeepAlive: 7 }
      })
    }
    const { raw, connack } = await open('edited')
    assert.equal(connack.sessionPresent, true)
    assert.equal(connack.properties?.serverKeepAlive, 7)
    assert.equal(connack.properties?.sharedSubscriptionAvailable, false, 'aedes still says shared subscriptions are unavailable')
    raw.send({ cmd: 'pingreq' })
    await raw.next('pingresp')
    raw.socket.destroy()
    prepare = () => {}
  })

  it('10. doSubscribe refuses $share/ to MQTT 5 clients after reading client.version, and only there', async () => {
    const subscribe = async (raw: RawClient): Promise<number[]> => {
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/t', qos: 1 }, { topic: 'plain', qos: 1 }] })
      return (await raw.next('suback') as ISubackPacket).granted as number[]
    }
    const { raw: refused } = await open('refused')
    assert.deepEqual(await subscribe(refused), [0x9e, 1])
    refused.socket.destroy()
    let lifted: Client | undefined
    prepare = client => { liftShareRefusal(client); lifted = client }
    const { raw: allowed } = await open('allowed')
    assert.deepEqual(await subscribe(allowed), [1, 1])
    // restored: a plain field again, and the refusal is back
    restoreShareRefusal(lifted as Client)
    assert.deepEqual(Object.getOwnPropertyDescriptor(lifted, 'version'), { value: 5, writable: true, enumerable: true, configurable: true })
    allowed.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: '$share/g/u', qos: 1 }] })
    assert.deepEqual((await allowed.next('suback') as ISubackPacket).granted, [0x9e])
    allowed.socket.destroy()
    prepare = () => {}
  })

  it('8. a PUBLISH marked by authorizePublish is neither acknowledged nor delivered', async () => {
    dropPublishes = true
    const { raw } = await open('dropped')
    raw.send({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false })
    raw.send({ cmd: 'pingreq' })
    await raw.next('pingresp')
    assert.deepEqual(raw.packets.filter(p => p.cmd === 'puback'), [])
    raw.socket.destroy()
    dropPublishes = false
  })

  it('11. broker.topicAliasMaximum set at run time is advertised and enforced', async () => {
    setTopicAliasMaximum(broker, 2)
    const { raw, connack } = await open('aliases')
    assert.equal(connack.properties?.topicAliasMaximum, 2)
    raw.send({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } })
    assert.equal((await raw.next('disconnect') as IDisconnectPacket).reasonCode, 0x94)
    raw.socket.destroy()
    setTopicAliasMaximum(broker, 0)
  })

  it('13. a subscription authorizeSubscribe refuses gets 0x87 in an MQTT 5 SUBACK, in the order of the packet\'s (deduplicated) subscriptions, which editSuback can change', async () => {
    refuse.add('no/2')
    prepare = client => {
      (client as unknown as { _parser: { prependListener: (e: string, l: (p: { cmd: string, messageId?: number, subscriptions: object[] }) => void) => void } })._parser
        .prependListener('packet', p => { if (p.cmd === 'subscribe') subscribePackets.push(p) })
    }
    const { raw } = await open('suback')
    const client = (broker as unknown as { clients: Record<string, Client> }).clients.suback
    editSuback(client, 7, granted => {
      const subs = subscribePackets[0].subscriptions as Array<{ topic: string }>
      assert.deepEqual(subs.map(s => s.topic), ['ok/1', 'no/2', 'ok/3'])
      assert.deepEqual(granted, [1, 0x87, 0])
      granted[1] = 0x97
    })
    raw.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'ok/1', qos: 0 }, { topic: 'no/2', qos: 1 }, { topic: 'ok/3', qos: 0 }, { topic: 'ok/1', qos: 1 }] })
    assert.deepEqual((await raw.next('suback') as ISubackPacket).granted, [1, 0x97, 0])
    raw.socket.destroy()
    refuse.clear()
    prepare = () => {}
  })
})

describe('aedes behaviours the CONNECT policy relies on', () => {
  it('15. the client id and clean flag connectAs sets in preConnect are the connection\'s: its id, its clean flag, its Session Present', async () => {
    const broker = await Aedes.createBroker({
      preConnect: (_client, packet, callback) => {
        if (packet.clientId.startsWith('asked')) connectAs(packet, { clientId: 'registered', clean: false })
        callback(null, true)
      }
    })
    const server = createServer(socket => { broker.handle(socket) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const seen: Array<{ id: string, clean: boolean }> = []
    broker.on('client', c => { seen.push({ id: c.id, clean: c.clean }) })
    const open = async (clientId: string): Promise<{ raw: RawClient, connack: IConnackPacket }> => {
      const socket = netConnect(port, '127.0.0.1')
      await new Promise<void>(resolve => socket.once('connect', resolve))
      const raw = RawClient.wrap(socket, 4)
      raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60 })
      return { raw, connack: await raw.next('connack') as IConnackPacket }
    }
    try {
      const first = await open('asked-1')
      assert.equal(first.connack.sessionPresent, false)
      first.raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] })
      await first.raw.next('suback')
      first.raw.socket.destroy()
      // a persistent session under the registered id: kept, found again from another id as sent
      const second = await open('asked-2')
      assert.equal(second.connack.sessionPresent, true)
      assert.deepEqual(seen, [{ id: 'registered', clean: false }, { id: 'registered', clean: false }])
      second.raw.socket.destroy()
    } finally {
      await new Promise<void>(resolve => broker.close(() => resolve()))
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  })
})
