// Many subscriptions of one persistent session: a real `vmq start` node on
// loopback (open access, no subscription limit), one clean=false client
// subscribing N QoS 1 filters in SUBSCRIBE packets of `--per` filters; reports
// the time and the node's RSS growth for each N, so growth can be read as
// linear or not. Also a clean session for comparison. One JSON line per result.
//
//   node dist/bench/subscriptions.js [--counts 25000,50000,100000] [--per 100]
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { startVmqNode } from './vmq-node.js'

const DEADLINE_MS = 120_000

async function run (count: number, per: number, clean: boolean): Promise<Record<string, number | string | boolean>> {
  const node = await startVmqNode(['max_subscriptions_per_client = 0'])
  try {
    const before = node.rssKb()
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${node.port}`, { clientId: 'many', clean, reconnectPeriod: 0 })
    const started = Date.now()
    for (let i = 0; i < count; i += per) {
      if (Date.now() - started > DEADLINE_MS) throw new Error(`not done after ${DEADLINE_MS} ms (${i} of ${count})`)
      const topics: Record<string, { qos: 1 }> = {}
      for (let j = i; j < Math.min(count, i + per); j++) topics[`dev/${j}/+/x`] = { qos: 1 }
      await client.subscribeAsync(topics)
    }
    const seconds = (Date.now() - started) / 1000
    const after = node.rssKb()
    await client.endAsync()
    return { bench: 'subscriptions', clean, count, per, seconds, subscriptionsPerSec: Math.round(count / seconds), rssGrowthMb: Math.round((after - before) / 1024), bytesPerSubscription: Math.round((after - before) * 1024 / count) }
  } finally {
    await node.stop()
  }
}

const { values } = parseArgs({ options: { counts: { type: 'string', default: '25000,50000,100000' }, per: { type: 'string', default: '100' } } })
const per = Number(values.per)
for (const count of (values.counts ?? '').split(',').map(Number)) {
  for (const clean of [false, true]) console.log(JSON.stringify(await run(count, per, clean)))
}
