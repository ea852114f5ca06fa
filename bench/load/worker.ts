// A load-generator process: holds a set of raw MQTT clients and obeys the runner over IPC.
import hdr from 'hdr-histogram-js'
import { LoadClient, releaseWaiting, type Shared } from './client.js'
import { publishTemplate, type ProtocolVersion } from './packets.js'
import type { ClientSpec, Command, OpenResult, Reply, Request, Stats, Target, WindowResult } from './protocol.js'
import { nowSeconds } from '../proc/stat.js'

const RATE_TICK_MS = 1

const shared: Shared = {
  sent: 0,
  acked: 0,
  received: 0,
  dup: 0,
  errors: 0,
  firstError: null,
  recording: false,
  histogram: newHistogram(),
  limit: 0,
  publishing: false,
  window: 0,
  fanout: 1,
  forgiven: 0,
  waiting: [],
  everySubscriber: []
}
/** When the subscribers' count has not moved for this long, the deliveries under way are written off (a broker may drop QoS 0). */
const STALL_MS = 500
let stallTimer: NodeJS.Timeout | null = null
let clients: LoadClient[] = []
let rateTimer: NodeJS.Timeout | null = null

function newHistogram (): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
}

function stats (): Stats {
  const cpu = process.cpuUsage()
  return {
    sent: shared.sent,
    acked: shared.acked,
    received: shared.received,
    dup: shared.dup,
    forgiven: shared.forgiven,
    open: clients.filter(c => c.isOpen).length,
    errors: shared.errors,
    firstError: shared.firstError,
    cpuMicros: cpu.user + cpu.system,
    at: nowSeconds()
  }
}

async function open (target: Target, specs: ClientSpec[], subscribeQos: 0 | 1, protocol: ProtocolVersion, concurrency: number, timeoutMs: number): Promise<OpenResult> {
  const started = nowSeconds()
  let next = 0
  let connected = 0
  let failed = 0
  let firstError: string | null = null
  const opened: LoadClient[] = []
  async function lane (): Promise<void> {
    while (next < specs.length) {
      const client = new LoadClient(specs[next++], target, shared, subscribeQos, protocol)
      try {
        await client.open(timeoutMs)
        opened.push(client)
        connected++
      } catch (err) {
        failed++
        firstError ??= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, specs.length)) }, lane))
  clients = clients.concat(opened)
  return { connected, failed, firstError, seconds: nowSeconds() - started }
}

function publishers (): LoadClient[] {
  return clients.filter(c => c.spec.publishTopic !== undefined && c.isOpen)
}

function start (qos: 0 | 1, payloadSize: number, rate: number, limit: number, maxInflight: number, window: number, fanout: number): void {
  const senders = publishers()
  shared.window = window
  shared.fanout = Math.max(1, fanout)
  shared.forgiven = 0
  const subscribers = clients.filter(c => c.spec.subscribe !== undefined && c.isOpen)
  // fanout > 1: every subscriber gets every message (fan-out); else each gets its own share
  shared.everySubscriber = shared.fanout > 1 ? subscribers : []
  if (window > 0) watchStalls()
  for (const client of senders) {
    client.preparePublishing(publishTemplate(client.spec.publishTopic as string, qos, payloadSize, client.protocol), maxInflight)
  }
  shared.limit = limit
  shared.publishing = true
  if (rate <= 0) {
    for (const client of senders) client.startFlood()
    return
  }
  // Fixed rate: every tick, send what the elapsed time owes, one packet per client in turn.
  const started = nowSeconds()
  let issued = 0
  let turn = 0
  const tick = (): void => {
    if (!shared.publishing) return
    const owed = Math.floor((nowSeconds() - started) * rate) - issued
    for (let i = 0, misses = 0; i < owed && misses < senders.length; turn++) {
      const result = senders[turn % senders.length].send(1)
      if (result === 'ok' || result === 'drain') {
        issued++
        i++
        misses = 0
      } else {
        misses++
      }
    }
    rateTimer = setTimeout(tick, RATE_TICK_MS)
  }
  tick()
}

function watchStalls (): void {
  let received = shared.received
  stallTimer = setInterval(() => {
    if (shared.received === received && shared.waiting.length > 0) {
      shared.forgiven = shared.sent * shared.fanout - shared.received
      for (const s of shared.everySubscriber) s.forgiven = shared.sent - s.received
      releaseWaiting(shared)
    }
    received = shared.received
  }, STALL_MS)
}

function stop (): void {
  shared.publishing = false
  if (rateTimer !== null) clearTimeout(rateTimer)
  if (stallTimer !== null) clearInterval(stallTimer)
  rateTimer = null
  stallTimer = null
  shared.waiting = []
}

function probe (qos: 0 | 1, payloadSize: number): void {
  for (const client of publishers()) {
    client.preparePublishing(publishTemplate(client.spec.publishTopic as string, qos, payloadSize, client.protocol), 1000)
    client.send(1)
  }
}

function reset (): void {
  shared.sent = 0
  shared.acked = 0
  shared.received = 0
  shared.dup = 0
  shared.forgiven = 0
  for (const c of clients) {
    c.received = 0
    c.forgiven = 0
  }
}

async function close (): Promise<void> {
  stop()
  await Promise.all(clients.map(c => c.close(2000)))
  clients = []
}

async function handle (command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'open': return await open(command.target, command.clients, command.subscribeQos, command.protocol, command.concurrency, command.timeoutMs)
    case 'start': start(command.qos, command.payloadSize, command.rate, command.limit, command.maxInflight, command.window, command.fanout); return stats()
    case 'probe': probe(command.qos, command.payloadSize); return stats()
    case 'stop': stop(); return stats()
    case 'stats': return stats()
    case 'reset': reset(); return stats()
    case 'window-open':
      shared.histogram = newHistogram()
      shared.recording = true
      return stats()
    case 'window-close': {
      shared.recording = false
      const result: WindowResult = { stats: stats(), histogram: hdr.encodeIntoCompressedBase64(shared.histogram) }
      return result
    }
    case 'close': await close(); return stats()
  }
}

process.on('message', (message: Request) => {
  handle(message).then(
    result => reply({ id: message.id, ok: true, result }),
    (err: Error) => reply({ id: message.id, ok: false, error: err.message })
  )
})

function reply (message: Reply): void {
  if (process.connected) process.send?.(message)
}

// The runner is gone (or told us to go): nothing else keeps this process alive.
process.on('disconnect', () => process.exit(0))
