// A node that goes away tells its MQTT 5 clients why (MQTT 5 §3.14.2.1):
// 0x8B when it shuts down, 0x9C (use another server) when it leaves with -k.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { OPEN_ACCESS, startNode, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'
import { waitMembers } from './helpers/cluster.js'

async function openV5 (node: TestNode, clientId: string): Promise<RawClient> {
  const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 60 })
  const raw = await RawClient.openWithBytes(node.mqttPort, connect, 5)
  assert.equal(reasonOf(await raw.next('connack')), 0)
  return raw
}

function reasonOf (packet: Packet): number | undefined {
  return (packet as { reasonCode?: number }).reasonCode
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
      assert.equal(reasonOf(await raw.next('disconnect')), 0x9c)
      await raw.waitClosed()
      assert.equal(await n2.waitExit(), 0)
    } finally {
      await n1.stop()
      await n2.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})
