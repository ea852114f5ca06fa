// A subscriber that stops reading while a publisher floods: one `vmq start`
// node on loopback (default limits), a raw subscriber that never reads after its
// SUBACK, and an MQTT.js publisher sending 1 KB messages (--payload) as fast as
// the node takes them for --seconds, at QoS 0 and at QoS 1. With --subscriber
// unacking the subscriber reads everything but never acknowledges a QoS 1
// message: its inflight window fills and the rest waits in its online queue
// (bounded by max_online_messages and outgoing_buffer_limit). Reports the node's RSS at the
// start and its peak, the messages published, and how the node dealt with the
// stuck subscriber: the lines it logged about it, and its queue_message_drop and
// client_slow_consumer_closed counters from /metrics. One JSON line per QoS.
//
//   node dist/bench/slow-consumer.js [--seconds 60] [--qos 0,1] [--payload 1024]
//                                    [--subscriber stopped|unacking] [--set key=value ...]
import { connect as netConnect } from 'node:net'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { startVmqNode, type VmqNode } from './vmq-node.js'

/** messages a QoS 1 publisher keeps unacknowledged */
const WINDOW = 100

type Subscriber = 'stopped' | 'unacking'

async function stuckSubscriber (node: VmqNode, qos: 0 | 1, kind: Subscriber): Promise<() => void> {
  const socket = netConnect(node.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  socket.on('error', () => {})
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'stuck', keepalive: 0 }))
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood/t', qos }] }))
  // read the CONNACK and SUBACK, then stop reading: the kernel buffers fill and the node's writes back up
  await new Promise<void>(resolve => { socket.once('data', () => resolve()) })
  if (kind === 'unacking') {
    // reads (and drops) every PUBLISH, sends no PUBACK
    socket.on('data', () => {})
    return () => { socket.destroy() }
  }
  await new Promise(resolve => setTimeout(resolve, 100))
  socket.pause()
  return () => { socket.destroy() }
}

async function flood (node: VmqNode, qos: 0 | 1, seconds: number, payload: Buffer, kind: Subscriber): Promise<Record<string, unknown>> {
  const release = await stuckSubscriber(node, qos, kind)
  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${node.port}`, { clientId: `flooder${qos}`, reconnectPeriod: 0 })
  const rssStart = node.rssKb()
  let rssPeak = rssStart
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, node.rssKb()) }, 200)
  const deadline = Date.now() + seconds * 1000
  let published = 0
  const inFlight = new Set<Promise<unknown>>()
  while (Date.now() < deadline && node.exitCode() === undefined) {
    const sent: Promise<unknown> = publisher.publishAsync('flood/t', payload, { qos }).catch(() => {})
    published++
    if (qos === 0) {
      await sent // written to the socket: the publisher goes as fast as the node reads
      continue
    }
    inFlight.add(sent)
    void sent.then(() => inFlight.delete(sent))
    if (inFlight.size >= WINDOW) await Promise.race(inFlight)
  }
  clearInterval(sampler)
  await publisher.endAsync()
  release()
  return { qos, subscriber: kind, payloadBytes: payload.length, seconds, published, rssStartMb: Math.round(rssStart / 1024), rssPeakMb: Math.round(rssPeak / 1024), growthMb: Math.round((rssPeak - rssStart) / 1024), nodeExit: node.exitCode() ?? null }
}

/** The node's counter `vernemq_<name>` from /metrics. */
async function counter (httpPort: number, name: string): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5000) })
  const line = (await res.text()).split('\n').find(l => l.startsWith(`vernemq_${name}{`))
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** The node's log lines about the stuck subscriber. */
function linesAbout (node: VmqNode, clientId: string): string[] {
  return node.output().split('\n').filter(line => line.includes(clientId))
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    qos: { type: 'string', default: '0,1' },
    payload: { type: 'string', default: '1024' },
    subscriber: { type: 'string', default: 'stopped' },
    set: { type: 'string', multiple: true, default: [] }
  }
})
if (values.subscriber !== 'stopped' && values.subscriber !== 'unacking') throw new Error(`--subscriber: stopped or unacking, not ${values.subscriber}`)
const kind: Subscriber = values.subscriber
const payloadBytes = Number(values.payload)
if (!Number.isInteger(payloadBytes) || payloadBytes < 0) throw new Error(`--payload: a number of bytes, not ${values.payload}`)
const payload = Buffer.alloc(payloadBytes, 0x61)
const levels = values.qos.split(',').map(Number).filter((q): q is 0 | 1 => q === 0 || q === 1)
// --set key=value: a line of the node's configuration (e.g. queue_type=lifo)
const settings = values.set.map(kv => kv.replace('=', ' = '))
for (const qos of levels) {
  const node = await startVmqNode(['listener.http.default = 127.0.0.1:0', ...settings])
  const httpPort = node.ports['http.default']
  try {
    const result = await flood(node, qos, Number(values.seconds), payload, kind)
    const lines = linesAbout(node, 'stuck')
    const drops = await counter(httpPort, 'queue_message_drop')
    const closed = await counter(httpPort, 'client_slow_consumer_closed')
    console.log(JSON.stringify({
      bench: 'slow-consumer', ...result, settings, drops, closedForNotReading: closed, logLinesAboutSubscriber: lines.length, firstLine: lines[0]?.slice(0, 200) ?? null
    }))
  } finally {
    await node.stop()
  }
}
