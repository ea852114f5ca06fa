// A node that goes away tells its MQTT 5 clients why (MQTT 5 §3.14.2.1):
// 0x8B when it shuts down, 0x9C (use another server) when it leaves with -k,
// naming in the Server Reference (§3.14.2.2.5) the member its session moves to.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { OPEN_ACCESS, startNode, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'
import { waitMembers } from './helpers/cluster.js'
import { connect, endAll } from './helpers/mqtt.js'

async function openV5 (node: TestNode, clientId: string): Promise<RawClient> {
  const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 60 })
  const raw = await RawClient.openWithBytes(node.mqttPort, connect, 5)
  assert.equal(reasonOf(await raw.next('connack')), 0)
  return raw
}

function reasonOf (packet: Packet): number | undefined {
  return (packet as { reasonCode?: number }).reasonCode
}

function serverReferenceOf (packet: Packet): string | undefined {
  return (packet as { properties?: { serverReference?: string } }).properties?.serverReference
}

/** A v5 persistent session (kept an hour) subscribed to `topic` at QoS 1. */
async function openPersistentV5 (port: number, clientId: string, topic: string): Promise<RawClient> {
  const raw = await RawClient.openWithBytes(port, connectPersistent(clientId), 5)
  assert.equal(reasonOf(await raw.next('connack')), 0)
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] } as Packet)
  assert.deepEqual((await raw.next('suback') as { granted: number[] }).granted, [1])
  return raw
}

function connectPersistent (clientId: string): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: false, clientId, keepalive: 60, properties: { sessionExpiryInterval: 3600 } })
}

describe('server-initiated DISCONNECT', () => {
  it('a node stopping sends its v5 clients DISCONNECT 0x8B before closing', async () => {
    const node = await startNode({ conf: OPEN_ACCESS })
    try {
      const raw = await openV5(node, 'told-shutdown')
      assert.equal(await node.stop(), 0)
      assert.equal(reasonOf(await raw.next('disconnect')), 0x8b)
      await raw.waitClosed()
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('cluster leave -k sends the leaving node\'s v5 clients DISCONNECT 0x9C', async () => {
    const n1 = await startNode({ conf: OPEN_ACCESS })
    const n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      const raw = await openV5(n2, 'told-move')
      const r = await n1.admin(['cluster', 'leave', `node=${n2.nodename}`, '-k'])
      assert.equal(r.code, 0, r.stderr)
      const disconnect = await raw.next('disconnect')
      assert.equal(reasonOf(disconnect), 0x9c)
      // a clean session moves nowhere: its client is sent to a running member
      assert.equal(serverReferenceOf(disconnect), `127.0.0.1:${n1.mqttPort}`)
      await raw.waitClosed()
      assert.equal(await n2.waitExit(), 0)
    } finally {
      await n1.stop()
      await n2.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })

  it('leave -k names, in the Server Reference, the member the session moves to (a listener of the client\'s transport); the client resumes its session there', async () => {
    const n1 = await startNode({ conf: OPEN_ACCESS })
    const n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    let pub: Awaited<ReturnType<typeof connect>> | undefined
    let ws: Awaited<ReturnType<typeof connect>> | undefined
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      await waitMembers(n2, { [n1.nodename]: true, [n2.nodename]: true })
      const raw = await openPersistentV5(n2.mqttPort, 'moved-home', 'move/t')
      ws = await connect(`ws://127.0.0.1:${n2.wsPort}/mqtt`, { protocolVersion: 5, clientId: 'moved-ws' })
      // 16 bytes: room for the DISCONNECT, not for a Server Reference (MQTT-3.1.2-24)
      const small = await RawClient.openWithBytes(n2.mqttPort, mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'moved-small', keepalive: 60, properties: { maximumPacketSize: 16 } }), 5)
      assert.equal(reasonOf(await small.next('connack')), 0)
      const wsDisconnect = new Promise<Packet>(resolve => { ws?.once('disconnect', resolve) })
      const r = await n1.admin(['cluster', 'leave', `node=${n2.nodename}`, '-k'])
      assert.equal(r.code, 0, r.stderr)
      const disconnect = await raw.next('disconnect')
      assert.equal(reasonOf(disconnect), 0x9c)
      assert.equal(serverReferenceOf(disconnect), `127.0.0.1:${n1.mqttPort}`)
      const wsPacket = await wsDisconnect
      assert.equal(reasonOf(wsPacket), 0x9c)
      assert.equal(serverReferenceOf(wsPacket), `ws://127.0.0.1:${n1.wsPort}/mqtt`)
      const smallPacket = await small.next('disconnect')
      assert.deepEqual([reasonOf(smallPacket), serverReferenceOf(smallPacket)], [0x9c, undefined])
      await raw.waitClosed()
      assert.equal(await n2.waitExit(), 0)

      pub = await connect(n1.mqttUrl)
      await pub.publishAsync('move/t', 'while-moving', { qos: 1 })
      const port = Number(serverReferenceOf(disconnect)?.split(':')[1])
      const resumed = await RawClient.openWithBytes(port, connectPersistent('moved-home'), 5)
      const connack = await resumed.next('connack') as { reasonCode?: number, sessionPresent?: boolean }
      assert.deepEqual([connack.reasonCode, connack.sessionPresent], [0, true])
      const publish = await resumed.next('publish') as { topic: string, payload: Buffer, qos: number }
      assert.deepEqual([publish.topic, publish.payload.toString(), publish.qos], ['move/t', 'while-moving', 1])
      resumed.close()
    } finally {
      await endAll(pub, ws)
      await n1.stop()
      await n2.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })

  it('the Server Reference follows listeners started and stopped at runtime on the member the session moves to, of the client\'s mountpoint', async () => {
    const n1 = await startNode({ conf: OPEN_ACCESS })
    const n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
      await waitMembers(n2, { [n1.nodename]: true, [n2.nodename]: true })
      for (const args of [
        ['listener', 'stop', 'address=127.0.0.1', `port=${n1.mqttPort}`],
        ['listener', 'start', 'address=127.0.0.1', 'port=0', '--mountpoint=site9'],
        ['listener', 'start', 'address=127.0.0.1', 'port=0']
      ]) {
        const r = await n1.admin(args)
        assert.equal(r.code, 0, r.stderr)
      }
      // the plain listener started at runtime: the running mqtt listener without a mountpoint
      const shown = await n1.admin(['listener', 'show', '--format=json'])
      const rows = (JSON.parse(shown.stdout) as { table: Array<{ type: string, status: string, port: string, mountpoint: string }> }).table
      const plain = rows.filter(r => r.type === 'mqtt' && r.status === 'running' && r.mountpoint === '').map(r => r.port)
      assert.equal(plain.length, 1, shown.stdout)
      const raw = await openV5(n2, 'moved-runtime')
      const r = await n1.admin(['cluster', 'leave', `node=${n2.nodename}`, '-k'])
      assert.equal(r.code, 0, r.stderr)
      const disconnect = await raw.next('disconnect')
      assert.deepEqual([reasonOf(disconnect), serverReferenceOf(disconnect)], [0x9c, `127.0.0.1:${plain[0]}`])
      assert.equal(await n2.waitExit(), 0)
    } finally {
      await n1.stop()
      await n2.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})
