// TLS cost benchmark: connection setup rate and QoS 0 throughput over TLS
// versus plain TCP, against one broker node pinned to one core (taskset, when
// available), in the same run so the ratio is meaningful.
//
//   npm run build && node dist/bench/tls.js [--seconds=5] [--messages=200000] [--concurrency=16] [--batch=1000]
//
// Prints a summary and appends one JSON line per measurement to
// bench/results/tls.jsonl.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import mqttPacket from 'mqtt-packet'
import { makePki, type Pki } from '../test/e2e/helpers/certs.js'
import { REPO, tempDir, VMQ, waitForPorts } from '../test/e2e/helpers/processes.js'

type Transport = 'tcp' | 'tls'
interface Target { tcp: number, tls: number, ca: Buffer }

const args = Object.fromEntries(process.argv.slice(2).map(a => a.replace(/^--/, '').split('=')))
const SECONDS = Number(args.seconds ?? 5)
const MESSAGES = Number(args.messages ?? 200000)
const CONCURRENCY = Number(args.concurrency ?? 16)
/** PUBLISH packets per write of the publisher */
const BATCH = Number(args.batch ?? 1000)
const PAYLOAD = Buffer.alloc(64, 'x')
const DISCONNECT = Buffer.from([0xe0, 0x00])

function hasTaskset (): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function startBroker (dir: string, pki: Pki): Promise<{ proc: ChildProcess, target: Target, pinned: boolean }> {
  const conf = join(dir, 'vernemq.conf')
  const portsFile = join(dir, 'ports.json')
  writeFileSync(conf, [
    'nodename = bench@127.0.0.1', 'allow_anonymous = on', 'plugins.vmq_acl = off', 'plugins.vmq_passwd = off',
    'log.console.level = warning', 'log.error = off', 'listener.max_connections = infinity',
    'listener.tcp.default = 127.0.0.1:0', 'listener.ssl.default = 127.0.0.1:0', 'listener.vmq.clustering = 127.0.0.1:0',
    `listener.ssl.certfile = ${pki.server.cert}`, `listener.ssl.keyfile = ${pki.server.key}`, `persistent_dir = ${join(dir, 'data')}`
  ].join('\n') + '\n')
  const pinned = hasTaskset()
  const command = pinned ? ['taskset', '-c', '0', process.execPath] : [process.execPath]
  const proc = spawn(command[0], [...command.slice(1), VMQ, 'start', '-c', conf, '--ports-file', portsFile], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] })
  proc.stdout?.resume() // its log, not read
  const ports = await waitForPorts(portsFile, () => proc.exitCode !== null, 15000)
  return { proc, target: { tcp: ports['tcp.default'], tls: ports['ssl.default'], ca: readFileSync(pki.ca) }, pinned }
}

function open (target: Target, transport: Transport): Socket {
  return transport === 'tcp'
    ? netConnect({ port: target.tcp, host: '127.0.0.1', noDelay: true })
    : tlsConnect({ port: target.tls, host: '127.0.0.1', ca: target.ca })
}

function connectPacket (clientId: string): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0 })
}

/** Opens a connection, sends CONNECT and resolves when CONNACK 0 arrives. */
async function mqttConnect (target: Target, transport: Transport, clientId: string): Promise<Socket> {
  const socket = open(target, transport)
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('CONNACK timeout')) }, 10000)
    socket.once(transport === 'tcp' ? 'connect' : 'secureConnect', () => socket.write(connectPacket(clientId)))
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer)
      if (chunk[0] === 0x20 && chunk[3] === 0) resolve(socket)
      else reject(new Error(`unexpected CONNACK ${chunk.toString('hex')}`))
    })
    socket.once('error', err => { clearTimeout(timer); reject(err) })
  })
}

/** Full CONNECT/CONNACK/DISCONNECT cycles per second, CONCURRENCY at a time, new TLS session each time. */
async function connectionRate (target: Target, transport: Transport): Promise<number> {
  const deadline = Date.now() + SECONDS * 1000
  let done = 0
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; Date.now() < deadline; i++) {
      const socket = await mqttConnect(target, transport, `c${w}-${i}`)
      socket.end(DISCONNECT)
      done++
    }
  }
  const started = Date.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => { await worker(w) }))
  return done / ((Date.now() - started) / 1000)
}

/** QoS 0 messages per second from one publisher to one subscriber. */
async function throughput (target: Target, transport: Transport): Promise<number> {
  const sub = await mqttConnect(target, transport, `sub-${transport}`)
  const pub = await mqttConnect(target, transport, `pub-${transport}`)
  const topic = `bench/${transport}`
  await new Promise<void>(resolve => {
    sub.once('data', () => resolve()) // SUBACK
    sub.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }))
  })
  const packet = mqttPacket.generate({ cmd: 'publish', topic, payload: PAYLOAD, qos: 0, retain: false, dup: false })
  const expectedBytes = packet.length * MESSAGES
  let received = 0
  const started = Date.now()
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`only ${Math.floor(received / packet.length)} of ${MESSAGES} messages arrived`)) }, 120000)
    sub.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received >= expectedBytes) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  const batch = Buffer.concat(Array.from({ length: BATCH }, () => packet))
  for (let sent = 0; sent < MESSAGES; sent += BATCH) {
    if (!pub.write(sent + BATCH <= MESSAGES ? batch : batch.subarray(0, (MESSAGES - sent) * packet.length))) {
      await new Promise(resolve => pub.once('drain', resolve))
    }
  }
  await finished
  const rate = MESSAGES / ((Date.now() - started) / 1000)
  sub.destroy()
  pub.destroy()
  return rate
}

async function main (): Promise<void> {
  const dir = tempDir('vmq-bench-tls-')
  const pki = makePki(dir)
  const { proc, target, pinned } = await startBroker(dir, pki)
  const results: Record<string, number> = {}
  try {
    for (const transport of ['tcp', 'tls'] as const) {
      results[`connect_per_s_${transport}`] = await connectionRate(target, transport)
      results[`qos0_msgs_per_s_${transport}`] = await throughput(target, transport)
    }
  } finally {
    proc.kill('SIGTERM')
    await new Promise(resolve => proc.once('exit', resolve))
    rmSync(dir, { recursive: true, force: true })
  }
  const summary = {
    bench: 'tls',
    date: new Date().toISOString(),
    node: process.version,
    broker_pinned_to_one_core: pinned,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    messages: MESSAGES,
    batch: BATCH,
    payload_bytes: PAYLOAD.length,
    ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)])),
    connect_ratio_tls_vs_tcp: Number((results.connect_per_s_tls / results.connect_per_s_tcp).toFixed(3)),
    qos0_ratio_tls_vs_tcp: Number((results.qos0_msgs_per_s_tls / results.qos0_msgs_per_s_tcp).toFixed(3))
  }
  mkdirSync(join(REPO, 'bench', 'results'), { recursive: true })
  appendFileSync(join(REPO, 'bench', 'results', 'tls.jsonl'), JSON.stringify(summary) + '\n')
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.message}\n`)
  process.exitCode = 1
})
