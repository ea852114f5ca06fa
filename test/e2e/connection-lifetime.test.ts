// listener.max_connection_lifetime: a connection is closed that many seconds
// after its CONNECT (MQTT 5: DISCONNECT 0x98, administrative action, first);
// the most specific scope wins, 0 = never.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { IDisconnectPacket } from 'mqtt-packet'
import { OPEN_ACCESS, startNode, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'
import { RawClient5 } from './helpers/raw5.js'

describe('listener.max_connection_lifetime', () => {
  let node: TestNode

  before(async () => {
    node = await startNode({
      conf: [...OPEN_ACCESS, 'listener.max_connection_lifetime = 1', 'listener.tcp.long = 127.0.0.1:0', 'listener.tcp.long.max_connection_lifetime = 0']
    })
  })
  after(async () => {
    await node.stop()
    node.cleanup()
  })

  it('closes a 3.1.1 connection about a second after its CONNECT, and says why in the log', async () => {
    const started = Date.now()
    const raw = await RawClient.open(node.mqttPort, 'lifetime-4')
    await raw.next('connack')
    await raw.waitClosed(5000)
    const lived = Date.now() - started
    assert.ok(lived >= 900 && lived < 5000, `closed after ${lived} ms`)
    assert.deepEqual(raw.packets.map(p => p.cmd), [])
    assert.ok(node.stdout.includes('connection closed: max_connection_lifetime reached'), node.stdout)
  })

  it('sends an MQTT 5 client DISCONNECT 0x98 before closing', async () => {
    const { raw } = await RawClient5.connect(node.mqttPort, 'lifetime-5')
    assert.equal((await raw.next('disconnect', 5000) as IDisconnectPacket).reasonCode, 0x98)
    await raw.waitClosed()
  })

  it('leaves connections of a listener that sets 0 open', async () => {
    const kept = await RawClient.open(node.port('tcp.long'), 'lifetime-kept')
    await kept.next('connack')
    // connected after the kept one: once it is closed, a lifetime of the kept one would have run out too
    const short = await RawClient.open(node.mqttPort, 'lifetime-short')
    await short.next('connack')
    await short.waitClosed(5000)
    kept.send({ cmd: 'pingreq' })
    await kept.next('pingresp')
    assert.equal(kept.closed, false)
    kept.close()
  })
})
