// suppress_lwt_on_session_takeover: the will of a connection another one
// takes over (same client id) is published by default (the old connection did
// not send DISCONNECT), and not when the key is on, on one node and when the
// new connection is on another member.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'

const will = (payload: string): { will: { topic: string, payload: Buffer, qos: 0, retain: false } } =>
  ({ will: { topic: 'lwt/tk', payload: Buffer.from(payload), qos: 0, retain: false } })

/** Publishes a marker and waits for it: what came before it has arrived. */
async function settled (url: string, got: Received[], marker: string): Promise<string[]> {
  const pub = await connect(url)
  await pub.publishAsync('lwt/marker', marker, { qos: 1 })
  await endAll(pub)
  await waitFor(() => got.some(m => m.payload === marker), 5000, `the marker ${marker}`)
  return got.filter(m => m.topic === 'lwt/tk').map(m => m.payload)
}

describe('suppress_lwt_on_session_takeover', () => {
  let n1: TestNode
  let n2: TestNode
  let watcher: MqttClient
  let got: Received[]
  const open: MqttClient[] = []

  before(async () => {
    n1 = await startNode({ conf: OPEN_ACCESS })
    n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true })
    watcher = await connect(n1.mqttUrl)
    got = collect(watcher)
    await watcher.subscribeAsync('lwt/#', { qos: 1 })
  })

  after(async () => {
    for (const c of open) c.end(true)
    await endAll(watcher)
    await n2.stop()
    await n1.stop()
    n1.cleanup()
    n2.cleanup()
  })

  async function takeOver (first: string, second: string, url: string): Promise<void> {
    open.push(await connect(n1.mqttUrl, { clientId: 'tk', reconnectPeriod: 0, ...will(first) }))
    open.push(await connect(url, { clientId: 'tk', reconnectPeriod: 0, ...will(second) }))
  }

  it('off (the default): the taken-over connection\'s will is published', async () => {
    await takeOver('will 1', 'will 2', n1.mqttUrl)
    assert.deepEqual(await settled(n1.mqttUrl, got, 'm1'), ['will 1'])
  })

  it('on: no will on a takeover on the same node, nor by a connection on another member', async () => {
    for (const node of [n1, n2]) {
      // exit 0: a key without effect would be refused with 1
      const set = await node.admin(['set', 'suppress_lwt_on_session_takeover=on'])
      assert.equal(set.code, 0, set.stderr)
    }
    await takeOver('will 3', 'will 4', n1.mqttUrl)
    await takeOver('will 5', 'will 6', n2.mqttUrl)
    // will 2, 3 and 4 taken over on n1; will 5 by the connection on n2
    assert.deepEqual(await settled(n1.mqttUrl, got, 'm2'), ['will 1'])
  })
})
