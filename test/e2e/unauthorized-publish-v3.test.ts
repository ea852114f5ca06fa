// A denied PUBLISH, as VerneMQ answers it: an MQTT 3.1 client or a bridge
// (protocol level with the bridge bit) has it acknowledged and dropped, and
// stays connected, unless disconnect_on_unauthorized_publish_v3 is on; an
// MQTT 3.1.1 connection is closed.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { IPublishPacket, Packet } from 'mqtt-packet'
import { startNode, tempDir, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'

const MQTT31 = { protocolId: 'MQIsdp', protocolVersion: 3 }
const BRIDGE = { protocolVersion: 4, bridgeMode: true }

describe('denied PUBLISH of MQTT 3.1 clients and bridges (ACL: topic allowed/#)', () => {
  let node: TestNode
  let watcher: RawClient

  before(async () => {
    const acl = join(tempDir(), 'vmq.acl')
    writeFileSync(acl, 'topic allowed/#\ntopic read #\n')
    node = await startNode({ conf: ['allow_anonymous = on', 'plugins.vmq_passwd = off', `vmq_acl.acl_file = ${acl}`] })
    watcher = await RawClient.open(node.mqttPort, 'watcher')
    await watcher.next('connack')
    watcher.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 1 }] })
    await watcher.next('suback')
  })
  after(async () => {
    watcher.close()
    await node.stop()
    node.cleanup()
  })

  /** PUBLISHes `topic` (QoS 1, id 7) then allowed/after (QoS 1, id 8); returns what the watcher got once allowed/after arrived. */
  async function deniedThenAllowed (client: RawClient, topic: string): Promise<string[]> {
    client.send({ cmd: 'publish', topic, payload: Buffer.from('denied'), qos: 1, messageId: 7, retain: false, dup: false } as Packet)
    client.send({ cmd: 'publish', topic: 'allowed/after', payload: Buffer.from('allowed'), qos: 1, messageId: 8, retain: false, dup: false } as Packet)
    const got: string[] = []
    for (;;) {
      const p = await watcher.next('publish') as IPublishPacket
      got.push(p.topic)
      if (p.topic === 'allowed/after') return got
    }
  }

  for (const [kind, clientId, extra] of [['MQTT 3.1', 'quiet-31', MQTT31], ['a bridge (0x84)', 'quiet-bridge', BRIDGE]] as const) {
    it(`${kind}: acknowledged and dropped, the connection stays`, async () => {
      const client = await RawClient.open(node.mqttPort, clientId, extra)
      await client.next('connack')
      assert.deepEqual(await deniedThenAllowed(client, 'secret/t'), ['allowed/after'])
      assert.deepEqual([(await client.next('puback') as { messageId: number }).messageId, (await client.next('puback') as { messageId: number }).messageId], [7, 8])
      assert.equal(client.closed, false)
      client.close()
    })
  }

  it('MQTT 3.1.1: the connection is closed', async () => {
    const client = await RawClient.open(node.mqttPort, 'strict-311')
    await client.next('connack')
    client.send({ cmd: 'publish', topic: 'secret/t', payload: Buffer.from('denied'), qos: 1, messageId: 7, retain: false, dup: false } as Packet)
    await client.waitClosed()
    assert.deepEqual(client.received('puback'), [])
  })

  it('disconnect_on_unauthorized_publish_v3 = on: MQTT 3.1 is closed too', async () => {
    const set = await node.admin(['set', 'disconnect_on_unauthorized_publish_v3=on'])
    assert.equal(set.code, 0, set.stderr)
    try {
      const client = await RawClient.open(node.mqttPort, 'strict-31', MQTT31)
      await client.next('connack')
      client.send({ cmd: 'publish', topic: 'secret/t', payload: Buffer.from('denied'), qos: 1, messageId: 7, retain: false, dup: false } as Packet)
      await client.waitClosed()
      assert.deepEqual(client.received('puback'), [])
    } finally {
      await node.admin(['set', 'disconnect_on_unauthorized_publish_v3=off'])
    }
  })
})
