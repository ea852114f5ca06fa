// QoS 0 fan-out through one in-process node: one publisher, N subscribers on
// raw sockets that only count bytes (so the clients cost little), M messages.
// Reports deliveries per second, CPU time per 1000 deliveries (the process runs
// broker and byte-counting clients; CPU time is steadier than wall time on a
// busy machine) and minor GCs per 100k deliveries (allocation on the hot path),
// to compare the broker's hot path before and after a change.
// Usage: npm run build && node --expose-gc dist/bench/qos0-fanout.js [subscribers] [messages] [rounds]
import { connect as netConnect, type Socket } from 'node:net'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import mqttPacket from 'mqtt-packet'
import { loadConfig } from '../src/config/load.js'
import { BrokerNode } from '../src/broker/node.js'

const SUBSCRIBERS = Number(process.argv[2] ?? 50)
const MESSAGES = Number(process.argv[3] ?? 20000)
const ROUNDS = Number(process.argv[4] ?? 5)
const TOPIC = 'bench/fanout/t'
const PAYLOAD = Buffer.alloc(64, 'x')

async function open (port: number, clientId: string): Promise<{ socket: Socket, parser: ReturnType<typeof mqttPacket.parser> }> {
  const socket = netConnect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0 }))
  return { socket, parser }
}

async function until (socket: Socket, parser: ReturnType<typeof mqttPacket.parser>, cmd: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => { parser.parse(d) }
    const onPacket = (p: { cmd: string }): void => {
      if (p.cmd !== cmd) return
      socket.off('data', onData)
      parser.off('packet', onPacket)
      resolve()
    }
    parser.on('packet', onPacket)
    socket.on('data', onData)
    socket.once('error', reject)
  })
}

async function main (): Promise<void> {
  const config = loadConfig({
    env: {},
    sets: ['allow_anonymous=on', 'plugins.vmq_passwd=off', 'plugins.vmq_acl=off', 'log.console=off', 'log.error=off',
      'listener.tcp.default=127.0.0.1:0', 'listener.vmq.clustering=127.0.0.1:0', 'persistent_dir=/tmp/vmq-bench-fanout']
  })
  const node = await BrokerNode.start(config)
  const port = node.listeners.all()[0].port()
  const publishBytes = mqttPacket.generate({ cmd: 'publish', topic: TOPIC, payload: PAYLOAD, qos: 0, retain: false, dup: false })
  const perSubscriber = publishBytes.length * MESSAGES
  const subs: Socket[] = []
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const { socket, parser } = await open(port, `sub${i}`)
    await until(socket, parser, 'connack')
    socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bench/fanout/+', qos: 0 }] }))
    await until(socket, parser, 'suback')
    subs.push(socket)
  }
  const pub = await open(port, 'pub')
  await until(pub.socket, pub.parser, 'connack')
  const batch = Buffer.concat(Array.from({ length: 100 }, () => publishBytes))
  let scavenges = 0
  const gcWatch = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++
    }
  })
  gcWatch.observe({ entryTypes: ['gc'] })

  for (let round = 0; round < ROUNDS; round++) {
    globalThis.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    const cpuBefore = process.cpuUsage()
    const scavengesBefore = scavenges
    let remaining = SUBSCRIBERS
    const done = new Promise<void>(resolve => {
      for (const socket of subs) {
        let bytes = 0
        const onData = (d: Buffer): void => {
          bytes += d.length
          if (bytes >= perSubscriber) {
            socket.off('data', onData)
            if (--remaining === 0) resolve()
          }
        }
        socket.on('data', onData)
      }
    })
    const start = process.hrtime.bigint()
    for (let sent = 0; sent < MESSAGES; sent += 100) {
      if (!pub.socket.write(batch)) await new Promise(resolve => pub.socket.once('drain', resolve))
    }
    await done
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    const heapAfter = process.memoryUsage().heapUsed
    const cpu = process.cpuUsage(cpuBefore)
    await new Promise(resolve => setImmediate(resolve)) // let the GC observer report
    const deliveries = SUBSCRIBERS * MESSAGES
    process.stdout.write(JSON.stringify({
      round, subscribers: SUBSCRIBERS, messages: MESSAGES, ms: Math.round(ms),
      deliveriesPerSec: Math.round(deliveries / ms * 1000),
      cpuMsPer1000: Number(((cpu.user + cpu.system) / 1000 / deliveries * 1000).toFixed(3)),
      minorGcPer100k: Number(((scavenges - scavengesBefore) / deliveries * 100000).toFixed(1)),
      heapBytesPerDelivery: Math.round((heapAfter - heapBefore) / deliveries)
    }) + '\n')
  }
  gcWatch.disconnect()
  for (const socket of subs) socket.destroy()
  pub.socket.destroy()
  await node.stop()
}

main().catch(err => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
