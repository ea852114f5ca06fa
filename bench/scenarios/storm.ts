// Storm: open many connections as fast as the broker accepts them, then weigh the idle ones.
import type { ClientSpec, OpenResult } from '../load/protocol.js'
import { sampleProcess } from '../proc/stat.js'
import { cpuOver, waitFor, type Outcome, type Session } from './session.js'

const CONNECT_TIMEOUT_MS = 30_000

export async function runStorm (session: Session): Promise<Outcome> {
  const p = session.params
  const tag = session.o.tag
  const broker = await session.launch()
  const worker = session.worker('storm')
  // One connection first, so that the baseline includes whatever the broker sets up lazily.
  await worker.call<OpenResult>({ cmd: 'open', target: broker.target, clients: [{ clientId: `${tag}w`, clean: true }], subscribeQos: 0, protocol: p.protocol, concurrency: 1, timeoutMs: 10_000 })
  const base = await settledRss(broker.pid)

  const specs: ClientSpec[] = Array.from({ length: p.connections }, (_, i) => ({ clientId: `${tag}c${i}`, clean: true }))
  const brokerFrom = session.sampleBrokers()
  const from = await worker.stats()
  const opened = await worker.call<OpenResult>({ cmd: 'open', target: broker.target, clients: specs, subscribeQos: 0, protocol: p.protocol, concurrency: p.concurrency, timeoutMs: CONNECT_TIMEOUT_MS }, CONNECT_TIMEOUT_MS + p.connections * 10)
  const to = await worker.stats()
  const brokerTo = session.sampleBrokers()
  const loaded = await settledRss(broker.pid)
  // RSS a few seconds after a burst still holds what the connects left for the garbage collector
  const idleSeconds = p.idle ?? 0
  if (idleSeconds > 0) await new Promise(resolve => setTimeout(resolve, idleSeconds * 1000))
  const idle = idleSeconds > 0 ? sampleProcess(broker.pid).rssKb : undefined
  const open = (await worker.stats()).open - 1

  return {
    metrics: {
      conn_s: Math.round(opened.connected / opened.seconds),
      connected: opened.connected,
      failed: opened.failed,
      still_open: open,
      connect_ms: Math.round(opened.seconds * 1000),
      rss_base_kb: base,
      rss_loaded_kb: loaded,
      kb_per_conn: perConnection(loaded - base, opened.connected),
      ...(idle === undefined ? {} : { rss_idle_kb: idle, kb_per_conn_idle: perConnection(idle - base, opened.connected) })
    },
    cpu: cpuOver(brokerFrom, brokerTo, [from], [to]),
    broker_rss_kb: loaded,
    note: opened.firstError ?? undefined
  }
}

function perConnection (kb: number, connections: number): number {
  return connections === 0 ? 0 : Math.round(kb / connections * 100) / 100
}

/** The broker's RSS once it stops moving (two samples 250 ms apart within 1 %), at most 3 s. */
async function settledRss (pid: number): Promise<number> {
  let previous = sampleProcess(pid).rssKb
  let current = previous
  await waitFor(() => {
    current = sampleProcess(pid).rssKb
    const still = Math.abs(current - previous) <= previous * 0.01
    previous = current
    return still
  }, 3000, 250)
  return current
}
