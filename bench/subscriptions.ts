// Many subscriptions of one persistent session: a real `vmq start` node on
// loopback (open access, no subscription limit), one clean=false client
// subscribing N QoS 1 filters in SUBSCRIBE packets of `--per` filters; reports
// the time and the node's RSS growth for each N, so growth can be read as
// linear or not. Also a clean session for comparison. One JSON line per result.
//
//   node dist/bench/subscriptions.js [--counts 25000,50000,100000] [--per 100]
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { freePort, tempDir, VMQ } from '../test/e2e/helpers/processes.js'

const DEADLINE_MS = 120_000

function rssKb (pid: number): number {
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? 0 : Number(match[1])
}

async function startNode (): Promise<{ proc: ChildProcess, port: number, dir: string }> {
  const dir = tempDir('vmq-bench-subs-')
  const [port, ws, admin] = [await freePort(), await freePort(), await freePort()]
  const conf = join(dir, 'vernemq.conf')
  writeFileSync(conf, [
    `nodename = subs${admin}@127.0.0.1`, `listener.tcp.default = 127.0.0.1:${port}`, `listener.ws.default = 127.0.0.1:${ws}`,
    `listener.vmq.clustering = 127.0.0.1:${admin}`, `persistent_dir = ${join(dir, 'data')}`, `log.console.file = ${join(dir, 'console.log')}`,
    'allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'max_subscriptions_per_client = 0'
  ].join('\n') + '\n')
  const proc = spawn(process.execPath, [VMQ, 'start', '-c', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('node did not start')), 20_000)
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('listener vmq ')) { clearTimeout(timer); resolve() }
    })
  })
  return { proc, port, dir }
}

async function run (count: number, per: number, clean: boolean): Promise<Record<string, number | string | boolean>> {
  const { proc, port, dir } = await startNode()
  try {
    const before = rssKb(proc.pid as number)
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'many', clean, reconnectPeriod: 0 })
    const started = Date.now()
    for (let i = 0; i < count; i += per) {
      if (Date.now() - started > DEADLINE_MS) throw new Error(`not done after ${DEADLINE_MS} ms (${i} of ${count})`)
      const topics: Record<string, { qos: 1 }> = {}
      for (let j = i; j < Math.min(count, i + per); j++) topics[`dev/${j}/+/x`] = { qos: 1 }
      await client.subscribeAsync(topics)
    }
    const seconds = (Date.now() - started) / 1000
    const after = rssKb(proc.pid as number)
    await client.endAsync()
    return { bench: 'subscriptions', clean, count, per, seconds, subscriptionsPerSec: Math.round(count / seconds), rssGrowthMb: Math.round((after - before) / 1024), bytesPerSubscription: Math.round((after - before) * 1024 / count) }
  } finally {
    proc.kill('SIGTERM')
    await new Promise(resolve => proc.once('exit', resolve))
    rmSync(dir, { recursive: true, force: true })
  }
}

const { values } = parseArgs({ options: { counts: { type: 'string', default: '25000,50000,100000' }, per: { type: 'string', default: '100' } } })
const per = Number(values.per)
for (const count of (values.counts ?? '').split(',').map(Number)) {
  for (const clean of [false, true]) console.log(JSON.stringify(await run(count, per, clean)))
}
