import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { waitMembers } from './helpers/cluster.js'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { RawClient } from './helpers/raw.js'
import { RawClient5 } from './helpers/raw5.js'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { metricName, scrape, type Samples } from './helpers/prom.js'

/** How much each series grew between two scrapes (series absent before count from 0); only those that changed. */
function growth (before: Samples, after: Samples, names: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [series, value] of after.bySeries) {
    if (!names.some(name => metricName(series) === `vernemq_${name}`)) continue
    const grown = value - (before.get(series) ?? 0)
    if (grown !== 0) out[series] = grown
  }
  return out
}

describe('/metrics values: packets and bytes of MQTT connections', () => {
  let node: TestNode
  let httpPort: number
  const series = (name: string, labels = ''): string => `vernemq_${name}{${labels}${labels === '' ? '' : ','}node="${node.nodename}"}`
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    httpPort = node.port('http.default')
  })
  after(async () => {
    await node.stop()
    node.cleanup()
  })

  const PACKET_METRICS = ['mqtt_connect_received', 'mqtt_subscribe_received', 'mqtt_unsubscribe_received', 'mqtt_pingreq_received',
    'mqtt_puback_received', 'mqtt_pubrec_received', 'mqtt_pubrel_received', 'mqtt_pubcomp_received', 'mqtt_disconnect_received', 'mqtt_auth_received',
    'mqtt_suback_sent', 'mqtt_unsuback_sent', 'mqtt_pingresp_sent', 'mqtt_puback_sent', 'mqtt_pubrec_sent', 'mqtt_pubrel_sent', 'mqtt_pubcomp_sent',
    'mqtt_disconnect_sent', 'mqtt_auth_sent', 'bytes_received', 'bytes_sent']

  it('a 3.1.1 session counts each packet it sends and receives by type, and its bytes exactly', async () => {
    const before = await scrape(httpPort)
    let sent = 0
    let received = 0
    const send = (raw: RawClient, packet: Packet): void => {
      const bytes = mqttPacket.generate(packet, { protocolVersion: 4 })
      sent += bytes.length
      raw.sendBytes(bytes)
    }
    const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'wire4', keepalive: 60 } as Packet)
    sent += connect.length
    const raw = await RawClient.openWithBytes(node.mqttPort, connect)
    raw.socket.on('data', (d: Buffer) => { received += d.length })
    await raw.next('connack')
    send(raw, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'wire/1', qos: 1 }, { topic: 'wire/2', qos: 2 }] } as Packet)
    await raw.next('suback')
    send(raw, { cmd: 'pingreq' } as Packet)
    await raw.next('pingresp')
    // QoS 1 to itself: PUBACK sent, PUBLISH back, PUBACK received
    send(raw, { cmd: 'publish', topic: 'wire/1', payload: Buffer.from('one'), qos: 1, messageId: 2, retain: false, dup: false } as Packet)
    await raw.next('puback')
    const one = await raw.next('publish') as { messageId: number }
    send(raw, { cmd: 'puback', messageId: one.messageId } as Packet)
    // QoS 2 to itself: PUBREC, PUBREL, PUBCOMP both ways
    send(raw, { cmd: 'publish', topic: 'wire/2', payload: Buffer.from('two'), qos: 2, messageId: 3, retain: false, dup: false } as Packet)
    await raw.next('pubrec')
    send(raw, { cmd: 'pubrel', messageId: 3 } as Packet)
    await raw.next('pubcomp')
    const two = await raw.next('publish') as { messageId: number }
    send(raw, { cmd: 'pubrec', messageId: two.messageId } as Packet)
    await raw.next('pubrel')
    send(raw, { cmd: 'pubcomp', messageId: two.messageId } as Packet)
    send(raw, { cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['wire/1'] } as Packet)
    await raw.next('unsuback')
    send(raw, { cmd: 'disconnect' } as Packet)
    await raw.waitClosed()
    const after = await scrape(httpPort)
    const v4 = 'mqtt_version="4"'
    assert.deepEqual(growth(before, after, PACKET_METRICS), {
      [series('bytes_received')]: sent,
      [series('bytes_sent')]: received,
      [series('mqtt_connect_received', v4)]: 1,
      [series('mqtt_subscribe_received', v4)]: 1,
      [series('mqtt_suback_sent', v4)]: 1,
      [series('mqtt_pingreq_received', v4)]: 1,
      [series('mqtt_pingresp_sent', v4)]: 1,
      [series('mqtt_puback_sent', v4)]: 1,
      [series('mqtt_puback_received', v4)]: 1,
      [series('mqtt_pubrec_sent', v4)]: 1,
      [series('mqtt_pubrec_received', v4)]: 1,
      [series('mqtt_pubrel_sent', v4)]: 1,
      [series('mqtt_pubrel_received', v4)]: 1,
      [series('mqtt_pubcomp_sent', v4)]: 1,
      [series('mqtt_pubcomp_received', v4)]: 1,
      [series('mqtt_unsubscribe_received', v4)]: 1,
      [series('mqtt_unsuback_sent', v4)]: 1,
      [series('mqtt_disconnect_received', v4)]: 1
    })
  })

  it('MQTT 5 acknowledgements and DISCONNECTs are counted by VerneMQ\'s reason code names', async () => {
    const before = await scrape(httpPort)
    const raw = await RawClient5.ready(node.mqttPort, 'wire5')
    await raw.subscribe('wire5/t', 1)
    raw.send({ cmd: 'publish', topic: 'wire5/t', payload: Buffer.from('x'), qos: 1, messageId: 7, retain: false, dup: false } as Packet)
    await raw.next('puback')
    const back = await raw.next('publish') as { messageId: number }
    raw.send({ cmd: 'puback', messageId: back.messageId, reasonCode: 0x10 } as Packet)
    raw.send({ cmd: 'pingreq' } as Packet)
    await raw.next('pingresp')
    raw.send({ cmd: 'disconnect', reasonCode: 0x04 } as Packet)
    await raw.waitClosed()
    const after = await scrape(httpPort)
    const grown = growth(before, after, PACKET_METRICS.filter(n => !n.startsWith('bytes_')))
    assert.deepEqual(grown, {
      [series('mqtt_connect_received', 'mqtt_version="5"')]: 1,
      [series('mqtt_subscribe_received', 'mqtt_version="5"')]: 1,
      [series('mqtt_suback_sent', 'mqtt_version="5"')]: 1,
      [series('mqtt_puback_sent', 'mqtt_version="5",reason_code="success"')]: 1,
      [series('mqtt_puback_received', 'mqtt_version="5",reason_code="no_matching_subscribers"')]: 1,
      [series('mqtt_pingreq_received', 'mqtt_version="5"')]: 1,
      [series('mqtt_pingresp_sent', 'mqtt_version="5"')]: 1,
      [series('mqtt_disconnect_received', 'mqtt_version="5",reason_code="disconnect_with_will_msg"')]: 1
    })
    // the series VerneMQ always has are there at 0 before anything was counted
    assert.equal(after.get(series('mqtt_disconnect_sent', 'mqtt_version="5",reason_code="normal_disconnect"')), 0)
    assert.equal(after.get(series('mqtt_auth_received', 'mqtt_version="5",reason_code="success"')), 0)
  })
  it('messages stored for an offline persistent session count into its queue when stored, out of it when sent at reconnect', async () => {
    const names = ['queue_message_in', 'queue_message_out', 'mqtt_publish_sent', 'router_matches_local']
    const sub = await connect(node.mqttUrl, { clientId: 'offline-q', clean: false })
    await sub.subscribeAsync('offq/t', { qos: 1 })
    await endAll(sub)
    const before = await scrape(httpPort)
    const pub = await connect(node.mqttUrl, { clientId: 'offline-pub' })
    for (let i = 0; i < 5; i++) await pub.publishAsync('offq/t', `m${i}`, { qos: 1 })
    await endAll(pub)
    const stored = await scrape(httpPort)
    assert.deepEqual(growth(before, stored, names), { [series('queue_message_in')]: 5, [series('router_matches_local')]: 5 })
    const back = await connect(node.mqttUrl, { clientId: 'offline-q', clean: false })
    try {
      const got = collect(back)
      await waitFor(() => got.length === 5, 5000, '5 stored messages delivered')
      assert.deepEqual(growth(stored, await scrape(httpPort), names), { [series('queue_message_out')]: 5, [series('mqtt_publish_sent', 'mqtt_version="4"')]: 5 })
    } finally {
      await endAll(back)
    }
  })
  it('open connections: per listener, MQTT (TCP and TLS), WebSocket and in total', async () => {
    const tcp = [await connect(node.mqttUrl), await connect(node.mqttUrl)]
    const ws = await connect(`ws://127.0.0.1:${node.wsPort}/mqtt`)
    try {
      const text = await scrape(httpPort)
      assert.equal(text.get(series('active_mqtt_connections')), 2)
      assert.equal(text.get(series('active_mqttws_connections')), 1)
      assert.equal(text.get(series('total_active_connections')), 3)
      assert.equal(text.get(series('listener_active_connections', `type="mqtt",address="127.0.0.1",port="${node.mqttPort}"`)), 2)
      assert.equal(text.get(series('listener_active_connections', `type="mqttws",address="127.0.0.1",port="${node.wsPort}"`)), 1)
    } finally {
      await endAll(...tcp, ws)
    }
    await waitFor(async () => (await scrape(httpPort)).get(series('total_active_connections')) === 0, 5000, 'no connection left')
  })
  it('metrics reset starts the added counters from 0 too', async () => {
    const reset = await node.admin(['metrics', 'reset'])
    assert.equal(reset.code, 0, reset.stderr)
    const text = await scrape(httpPort)
    const names = [...PACKET_METRICS, 'queue_message_in', 'queue_message_out', 'router_matches_local', 'router_matches_remote', 'cluster_bytes_sent',
      'cluster_bytes_received', 'cluster_bytes_dropped', 'netsplit_detected', 'netsplit_resolved']
    const nonZero = [...text.bySeries].filter(([series, value]) => names.some(name => metricName(series) === `vernemq_${name}`) && value !== 0)
    assert.deepEqual(nonZero, [])
    assert.ok([...text.bySeries.keys()].filter(series => names.some(n => series.startsWith(`vernemq_${n}{`))).length >= names.length)
  })
})

describe('/metrics values on a 2-node cluster', () => {
  let n1: TestNode
  let n2: TestNode
  let p1: number
  let p2: number
  before(async () => {
    n1 = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    n2 = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0', `discovery_node = ${n1.adminAddress}`] })
    p1 = n1.port('http.default')
    p2 = n2.port('http.default')
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
  })
  after(async () => {
    await Promise.all([n1.stop(), n2.stop()])
    n1.cleanup()
    n2.cleanup()
  })

  it('N publishes on each node, a subscriber on each: each node counts N received, N local and N remote matches, 2N into and out of its queues', async () => {
    const N = 20
    const s1 = await connect(n1.mqttUrl, { clientId: 'cl-s1' })
    const s2 = await connect(n2.mqttUrl, { clientId: 'cl-s2' })
    const pub1 = await connect(n1.mqttUrl, { clientId: 'cl-p1' })
    const pub2 = await connect(n2.mqttUrl, { clientId: 'cl-p2' })
    try {
      await s1.subscribeAsync('cl/#', { qos: 1 })
      await s2.subscribeAsync('cl/#', { qos: 1 })
      const got1: Received[] = collect(s1)
      const got2: Received[] = collect(s2)
      // until each node routes to the other's subscriber
      for (const [pub, got] of [[pub1, got2], [pub2, got1]] as const) {
        let i = 0
        await waitFor(async () => {
          const probe = `probe${i++}`
          await pub.publishAsync('cl/probe', probe, { qos: 1 })
          await new Promise(resolve => setTimeout(resolve, 50))
          return got.some(m => m.payload === probe)
        }, 10000, 'the subscription known on the other member')
      }
      await waitFor(() => got1.length === got2.length, 5000, 'every probe delivered')
      const names = ['mqtt_publish_received', 'mqtt_publish_sent', 'queue_message_in', 'queue_message_out', 'router_matches_local', 'router_matches_remote', 'cluster_routed_dropped']
      const before = [await scrape(p1), await scrape(p2)]
      const start = [got1.length, got2.length]
      for (let i = 0; i < N; i++) {
        await pub1.publishAsync('cl/one', `a${i}`, { qos: 1 })
        await pub2.publishAsync('cl/two', `b${i}`, { qos: 1 })
      }
      await waitFor(() => got1.length === start[0] + 2 * N && got2.length === start[1] + 2 * N, 10000, `${2 * N} messages at each subscriber`)
      const after = [await scrape(p1), await scrape(p2)]
      for (const [i, node] of [n1, n2].entries()) {
        const series = (name: string, labels = ''): string => `vernemq_${name}{${labels}${labels === '' ? '' : ','}node="${node.nodename}"}`
        assert.deepEqual(growth(before[i], after[i], names), {
          [series('mqtt_publish_received', 'mqtt_version="4"')]: N,
          [series('router_matches_local')]: N,
          [series('router_matches_remote')]: N,
          [series('queue_message_in')]: 2 * N,
          [series('queue_message_out')]: 2 * N,
          [series('mqtt_publish_sent', 'mqtt_version="4"')]: 2 * N
        }, node.nodename)
      }
    } finally {
      await endAll(s1, s2, pub1, pub2)
    }
  })

  it('routed publishes show in cluster_bytes_sent of the publishing member and cluster_bytes_received of the other', async () => {
    const sub = await connect(n2.mqttUrl, { clientId: 'bytes-sub' })
    const pub = await connect(n1.mqttUrl, { clientId: 'bytes-pub' })
    try {
      await sub.subscribeAsync('big/#', { qos: 0 })
      const got = collect(sub)
      let i = 0
      await waitFor(async () => {
        await pub.publishAsync('big/probe', `p${i++}`, { qos: 1 })
        await new Promise(resolve => setTimeout(resolve, 50))
        return got.length > 0
      }, 10000, 'the subscription known on n1')
      const before = [await scrape(p1), await scrape(p2)]
      const start = got.length
      const payload = 'x'.repeat(1000)
      for (let k = 0; k < 10; k++) await pub.publishAsync('big/t', payload, { qos: 1 })
      await waitFor(() => got.length === start + 10, 5000, '10 messages at the subscriber on n2')
      const after = [await scrape(p1), await scrape(p2)]
      const sent = (after[0].get(`vernemq_cluster_bytes_sent{node="${n1.nodename}"}`) as number) - (before[0].get(`vernemq_cluster_bytes_sent{node="${n1.nodename}"}`) as number)
      const received = (after[1].get(`vernemq_cluster_bytes_received{node="${n2.nodename}"}`) as number) - (before[1].get(`vernemq_cluster_bytes_received{node="${n2.nodename}"}`) as number)
      assert.ok(sent >= 10 * 1000, `n1 sent ${sent} bytes`)
      assert.ok(received >= 10 * 1000, `n2 received ${received} bytes`)
      assert.equal(after[0].get(`vernemq_cluster_bytes_dropped{node="${n1.nodename}"}`), 0)
    } finally {
      await endAll(sub, pub)
    }
  })

  it('a member killed is one netsplit_detected on the other, restarted one netsplit_resolved', async () => {
    const detected = `vernemq_netsplit_detected{node="${n1.nodename}"}`
    const resolved = `vernemq_netsplit_resolved{node="${n1.nodename}"}`
    const before = await scrape(p1)
    await n2.kill()
    await waitFor(async () => (await scrape(p1)).get(detected) === (before.get(detected) as number) + 1, 10000, 'netsplit_detected + 1')
    assert.equal((await scrape(p1)).get(resolved), before.get(resolved))
    n2 = await restartNode(n2)
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
    await waitFor(async () => (await scrape(p1)).get(resolved) === (before.get(resolved) as number) + 1, 10000, 'netsplit_resolved + 1')
    const after = await scrape(p1)
    assert.equal(after.get(detected), (before.get(detected) as number) + 1)
    assert.equal(after.get(resolved), (before.get(resolved) as number) + 1)
  })
})
