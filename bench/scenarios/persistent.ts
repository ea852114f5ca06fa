// Persistent: QoS 1 messages published to offline sessions, then the sessions come back
// and drain their queues.
import type { ClientSpec, Stats } from '../load/protocol.js'
import { nowSeconds } from '../proc/stat.js'
import { open } from './flow.js'
import { cpuOver, waitFor, type Outcome, type Session } from './session.js'

export async function runPersistent (session: Session): Promise<Outcome> {
  const p = session.params
  const tag = session.o.tag
  const broker = await session.launch()
  const topic = `bench/${tag}/queued`
  const sessions: ClientSpec[] = Array.from({ length: p.subscribers }, (_, i) => ({ clientId: `${tag}q${i}`, clean: false, subscribe: topic }))
  const expected = p.messages * p.subscribers

  // 1. Create the sessions and their subscriptions, then go offline.
  const load = session.worker('load')
  await open(load, broker, sessions, 1, p.protocol, 'sessions')
  await load.call({ cmd: 'close' })

  // 2. Publish to the offline sessions; the broker acknowledges once each message is queued.
  await open(load, broker, [{ clientId: `${tag}p`, clean: true, publishTopic: topic }], 1, p.protocol, 'publisher')
  const queueFrom = nowSeconds()
  await load.call({ cmd: 'start', qos: 1, payloadSize: p.payload, rate: 0, limit: p.messages, maxInflight: p.maxInflight, window: 0, fanout: 1 })
  const queued = await waitFor(async () => (await load.stats()).acked >= p.messages, (p.drain + 60) * 1000, 20)
  const queueSeconds = nowSeconds() - queueFrom
  const published = await load.stats()
  if (!queued) throw new Error(`the broker acknowledged ${published.acked} of ${p.messages} QoS 1 messages within ${p.drain + 60} s`)
  await load.call({ cmd: 'stop' })
  await load.call({ cmd: 'close' })

  // 3. The sessions come back (no new SUBSCRIBE) and receive their queues.
  const brokersFrom = session.sampleBrokers()
  const from = await load.stats()
  const resumed = sessions.map(s => ({ clientId: s.clientId, clean: false }))
  await open(load, broker, resumed, 1, p.protocol, 'resumed sessions')
  let last = -1
  let lastChange = nowSeconds()
  let now: Stats = from
  await waitFor(async () => {
    now = await load.stats()
    if (now.received !== last) {
      last = now.received
      lastChange = nowSeconds()
    }
    return now.received - from.received >= expected || nowSeconds() - lastChange > 2
  }, (p.drain + 60) * 1000, 20)
  const brokersTo = session.sampleBrokers()
  const received = now.received - from.received
  const drainSeconds = lastChange - from.at

  return {
    metrics: {
      queue_msg_s: Math.round(p.messages / queueSeconds),
      queued_deliveries_s: Math.round(expected / queueSeconds),
      drain_msg_s: Math.round(received / drainSeconds),
      expected,
      received,
      lost: Math.max(0, expected - received),
      loss_pct: Math.round(Math.max(0, expected - received) / expected * 10000) / 100,
      dup: now.dup - from.dup,
      drain_ms: Math.round(drainSeconds * 1000)
    },
    cpu: cpuOver(brokersFrom, brokersTo, [from], [now]),
    broker_rss_kb: brokersTo[0].rssKb,
    note: now.firstError ?? undefined
  }
}
