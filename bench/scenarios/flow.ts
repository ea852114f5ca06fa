// Publishers and subscribers exchanging messages: fan-in, fan-out, pairs, cross-node and cluster-fan-out.
// Publishers flood (or keep a fixed rate) within an end-to-end window; after a warm-up, a window
// of `duration` seconds is measured; then publishing stops and the last messages get a bounded
// drain before loss is counted.
import type { Broker } from '../peers/launch.js'
import type { Worker } from '../load/pool.js'
import type { ClientSpec, OpenResult, Stats, WindowResult } from '../load/protocol.js'
import { nowSeconds } from '../proc/stat.js'
import { cpuOver, mergeLatency, round2, sleep, waitFor, type Outcome, type Session } from './session.js'

export interface FlowShape {
  /** each publisher has its own topic and its own subscriber (pairs) instead of all sharing one topic */
  paired: boolean
  publisherBroker: Broker
  /** subscribers are spread over these, round robin */
  subscriberBrokers: Broker[]
}

const OPEN_TIMEOUT_MS = 10_000
const PROBE_ROUNDS = 50

export async function runFlow (session: Session, shape: FlowShape): Promise<Outcome> {
  const p = session.params
  const tag = session.o.tag
  const subscribers = shape.paired ? p.publishers : p.subscribers
  const topic = (i: number): string => shape.paired ? `bench/${tag}/p${i}` : `bench/${tag}/all`
  const subSpecs: ClientSpec[] = Array.from({ length: subscribers }, (_, i) => ({ clientId: `${tag}s${i}`, clean: true, subscribe: topic(i) }))
  const pubSpecs: ClientSpec[] = Array.from({ length: p.publishers }, (_, i) => ({ clientId: `${tag}p${i}`, clean: true, publishTopic: topic(i) }))
  /** how many subscribers get each published message */
  const fanout = shape.paired ? 1 : subscribers

  // Publishers and subscribers share one process, so the end-to-end window needs no messages.
  const load = session.worker('load')
  const brokers = shape.subscriberBrokers
  for (const [b, broker] of brokers.entries()) {
    await open(load, broker, subSpecs.filter((_, i) => i % brokers.length === b), p.qos, p.protocol, 'subscribers')
  }
  await open(load, shape.publisherBroker, pubSpecs, p.qos, p.protocol, 'publishers')
  await checkRoutes(session, load, p.publishers * fanout)

  await load.call({ cmd: 'start', qos: p.qos, payloadSize: p.payload, rate: p.rate, limit: 0, maxInflight: p.maxInflight, window: p.window * subscribers, fanout })
  await sleep(p.warmup * 1000)
  const brokersFrom = session.sampleBrokers()
  const from = await load.call<Stats>({ cmd: 'window-open' })
  await sleep(p.duration * 1000)
  const window = await load.call<WindowResult>({ cmd: 'window-close' })
  const brokersTo = session.sampleBrokers()
  const to = window.stats

  await load.call({ cmd: 'stop' })
  const drain = await drainAll(load, fanout, p.qos, p.drain)
  const seconds = to.at - from.at
  const lost = Math.max(0, drain.expected - drain.received)
  const cpu = cpuOver(brokersFrom, brokersTo, [from], [to])
  const received = to.received - from.received
  const published = to.sent - from.sent
  // CPU of every broker process per message: what a message costs the brokers in all
  const cpuMicros = (cpu.brokers_total ?? cpu.broker) * seconds * 1e6
  return {
    metrics: {
      msg_s: Math.round(received / seconds),
      pub_msg_s: Math.round(published / seconds),
      cpu_us_per_msg: received === 0 ? 0 : round2(cpuMicros / received),
      cpu_us_per_pub: published === 0 ? 0 : round2(cpuMicros / published),
      sent: drain.sent,
      expected: drain.expected,
      received: drain.received,
      lost,
      loss_pct: drain.expected === 0 ? 0 : Math.round(lost / drain.expected * 10000) / 100,
      dup: drain.dup,
      ...(p.qos === 1 ? { acked: drain.acked } : {}),
      window_written_off: drain.forgiven,
      drain_ms: drain.ms,
      errors: drain.errors
    },
    latency_us: mergeLatency([window]),
    cpu,
    broker_rss_kb: brokersTo[0].rssKb,
    note: drain.firstError ?? undefined
  }
}

export async function open (worker: Worker, broker: Broker, clients: ClientSpec[], qos: 0 | 1, protocol: 4 | 5, what: string): Promise<OpenResult> {
  const result = await worker.call<OpenResult>({ cmd: 'open', target: broker.target, clients, subscribeQos: qos, protocol, concurrency: 64, timeoutMs: OPEN_TIMEOUT_MS }, OPEN_TIMEOUT_MS * 3)
  if (result.failed > 0) throw new Error(`${result.failed} of ${clients.length} ${what} could not connect: ${result.firstError ?? ''}`)
  return result
}

/**
 * Sends one message per publisher until every subscriber gets it (subscriptions can take a
 * moment to reach another node), then zeroes the counters so the probes are not counted.
 */
async function checkRoutes (session: Session, load: Worker, perProbe: number): Promise<void> {
  const p = session.params
  let routed = false
  for (let round = 0; round < PROBE_ROUNDS && !routed; round++) {
    const before = (await load.stats()).received
    await load.call({ cmd: 'probe', qos: p.qos, payloadSize: p.payload })
    routed = await waitFor(async () => (await load.stats()).received - before >= perProbe, 200, 10)
  }
  if (!routed) throw new Error(`subscribers did not receive the probe messages after ${PROBE_ROUNDS} tries (${PROBE_ROUNDS * 0.2} s)`)
  // Let late probe copies and their acknowledgements arrive before zeroing.
  let previous = -1
  await waitFor(async () => {
    const s = await load.stats()
    const still = s.received === previous && (p.qos === 0 || s.acked >= s.sent)
    previous = s.received
    return still
  }, 2000)
  await load.call({ cmd: 'reset' })
}

interface Drain { sent: number, acked: number, expected: number, received: number, dup: number, forgiven: number, ms: number, errors: number, firstError: string | null }

/** Waits for the last messages: until all arrived, nothing arrived for a second, or `maxSeconds`. */
async function drainAll (load: Worker, fanout: number, qos: 0 | 1, maxSeconds: number): Promise<Drain> {
  const started = nowSeconds()
  let s = await load.stats()
  const expected = s.sent * fanout
  let last = -1
  let lastChange = started
  await waitFor(async () => {
    s = await load.stats()
    if (s.received !== last) {
      last = s.received
      lastChange = nowSeconds()
    }
    return (s.received >= expected && (qos === 0 || s.acked >= s.sent)) || nowSeconds() - lastChange > 1
  }, maxSeconds * 1000)
  return {
    sent: s.sent,
    acked: s.acked,
    forgiven: s.forgiven,
    expected,
    received: s.received,
    dup: s.dup,
    ms: Math.round((nowSeconds() - started) * 1000),
    errors: s.errors,
    firstError: s.firstError
  }
}
