// Starts one broker under test in a fresh process pinned to the broker core, waits until
// it accepts an MQTT session (bounded), and stops it again.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { spawnPinned, stopChild } from '../proc/children.js'
import type { Target } from '../load/protocol.js'
import { ALLOW_ALL_ACL, mosquittoConfig, passwordLine, vmqConfig } from './files.js'
import { waitUntilReady } from './ready.js'
import { freePort } from '../../test/e2e/helpers/free-port.js'

// vmq-base: vmq from another checkout (--base), to compare a change with what it changes;
// vmq-workers: vmq with `workers = 2` (a node process per core behind one listener), on every core;
// vmq-nometrics: vmq without its per-packet metric updates (VMQ_BENCH_NO_WIRE_METRICS=1), to measure what they cost;
// mosquitto-persist: mosquitto with `persistence true` (its database in the run's directory).
export const PEERS = ['mosquitto', 'mosquitto-persist', 'aedes', 'vmq', 'vmq-secure', 'vmq-base', 'vmq-workers', 'vmq-nometrics'] as const
export type PeerName = typeof PEERS[number]

export const MOSQUITTO = '/usr/sbin/mosquitto'
const PLAIN_AEDES = fileURLToPath(new URL('./plain-aedes.js', import.meta.url))
/** `BENCH_BROKER_ALLOC_DIR=<dir>`: Node brokers preload this and write an allocation profile there when they stop. */
const ALLOC_PROFILE = fileURLToPath(new URL('../proc/alloc-profile.js', import.meta.url))
/** vmq-workers may use both cores (the load generator shares one with it) */
const WORKERS_CORES = '0,1'
const BENCH_USER = { username: 'bench', password: 'bench-secret' }

export interface Broker {
  peer: PeerName
  pid: number
  target: Target
  /** host:port of the cluster listener (vmq only) */
  clusterPort?: number
  nodename?: string
  stop: () => Promise<void>
  /** the last lines the broker logged, for error messages */
  logTail: () => string
  /** how the broker process ended, when it has */
  exit: () => string | null
}

export interface LaunchOptions {
  /** core the broker is pinned to; undefined = not pinned */
  core?: number | string
  /** repository whose bin/run.js starts vmq */
  repo: string
  /** empty directory for this broker's files */
  dir: string
  readyTimeoutMs: number
  nodename?: string
  /** vmq only: the node to join at start (its cluster listener), through `discovery_node` */
  join?: Broker
}

export function peerHasCluster (peer: PeerName): boolean {
  return peer === 'vmq' || peer === 'vmq-secure' || peer === 'vmq-base' || peer === 'vmq-nometrics'
}

function isMosquitto (peer: PeerName): boolean {
  return peer === 'mosquitto' || peer === 'mosquitto-persist'
}

function isVmq (peer: PeerName): boolean {
  return peerHasCluster(peer) || peer === 'vmq-workers'
}

/** Why `peer` cannot run on this machine, or null when it can. */
export function peerUnavailable (peer: PeerName, repo: string): string | null {
  if (isMosquitto(peer) && !existsSync(MOSQUITTO)) return `${MOSQUITTO} not found: install the Debian package 'mosquitto' (apt-get install mosquitto)`
  if (isVmq(peer)) {
    if (peer === 'vmq-base' && repo === '') return 'vmq-base needs --base <vmq-ts checkout>'
    if (!existsSync(join(repo, 'bin', 'run.js'))) return `no vmq at ${repo} (missing bin/run.js); pass --repo <vmq-ts checkout>`
    if (!existsSync(join(repo, 'dist', 'src', 'commands', 'start.js'))) return `vmq start is not built in ${repo} (missing dist/src/commands/start.js; run npm run build there)`
  }
  return null
}

export function peerVersion (peer: PeerName, repo: string): string {
  try {
    if (isMosquitto(peer)) return execFileSync(MOSQUITTO, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim()
    if (peer === 'aedes') return `aedes ${String(JSON.parse(readFileSync(join(dirname(createRequire(import.meta.url).resolve('aedes')), 'package.json'), 'utf8')).version)}`
    const commit = execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return `vmq-ts ${commit}`
  } catch (err) {
    // mosquitto -h exits non-zero after printing its usage.
    const out = String((err as { stdout?: string }).stdout ?? '')
    return out.split('\n')[0].trim() || 'unknown'
  }
}

export async function launchPeer (peer: PeerName, o: LaunchOptions): Promise<Broker> {
  const port = await freePort()
  const logFile = join(o.dir, `${peer}.log`)
  const logFd = openSync(logFile, 'a')
  let child: ChildProcess
  let target: Target = { host: '127.0.0.1', port }
  let clusterPort: number | undefined
  const nodename = o.nodename ?? `bench${port}@127.0.0.1`
  try {
    if (isMosquitto(peer)) {
      const conf = join(o.dir, 'mosquitto.conf')
      const persistenceDir = peer === 'mosquitto-persist' ? join(o.dir, 'mosquitto-data') : undefined
      if (persistenceDir !== undefined) mkdirSync(persistenceDir, { recursive: true })
      writeFileSync(conf, mosquittoConfig(port, join(o.dir, 'mosquitto-broker.log'), process.getuid?.() === 0, persistenceDir))
      child = spawnPinned(MOSQUITTO, ['-c', conf], { core: o.core, output: logFd })
    } else if (peer === 'aedes') {
      child = spawnPinned(process.execPath, [...profileFlags(), PLAIN_AEDES, String(port)], { core: o.core, output: logFd, stdinPipe: true })
    } else {
      clusterPort = await freePort()
      const conf = join(o.dir, 'vernemq.conf')
      let secure: { passwordFile: string, aclFile: string } | undefined
      if (peer === 'vmq-secure') {
        secure = { passwordFile: join(o.dir, 'vmq.passwd'), aclFile: join(o.dir, 'vmq.acl') }
        writeFileSync(secure.passwordFile, passwordLine(BENCH_USER.username, BENCH_USER.password))
        writeFileSync(secure.aclFile, ALLOW_ALL_ACL)
        target = { ...target, credentials: BENCH_USER }
      }
      const extra = o.join === undefined ? [] : [`discovery_node = 127.0.0.1:${String(o.join.clusterPort)}`]
      if (peer === 'vmq-workers') extra.push('workers = 2')
      extra.push(...extraConfigLines(process.env.BENCH_VMQ_CONF))
      writeFileSync(conf, vmqConfig({ nodename, port, clusterPort, dataDir: join(o.dir, 'data'), secure, extra }))
      const core = peer === 'vmq-workers' ? WORKERS_CORES : o.core
      const env = peer === 'vmq-nometrics' ? { ...process.env, VMQ_BENCH_NO_WIRE_METRICS: '1' } : undefined
      child = spawnPinned(process.execPath, [...profileFlags(), join(o.repo, 'bin', 'run.js'), 'start', '-c', conf], { core, output: logFd, stdinPipe: true, env })
    }
  } finally {
    closeSync(logFd)
  }
  const logTail = (): string => tail(logFile) + tail(join(o.dir, 'mosquitto-broker.log'))
  const broker: Broker = {
    peer,
    pid: child.pid ?? -1,
    target,
    clusterPort,
    nodename: clusterPort === undefined ? undefined : nodename,
    stop: async () => await stopChild(child, 5000),
    logTail,
    exit: () => child.exitCode !== null ? `exit code ${child.exitCode}` : child.signalCode !== null ? `signal ${child.signalCode}` : null
  }
  try {
    await waitUntilReady(target, child, o.readyTimeoutMs)
    // the first worker takes connections before the others are up: wait for all of them
    if (peer === 'vmq-workers') await waitForLine(logFile, /started with \d+ workers/, o.readyTimeoutMs)
  } catch (err) {
    await broker.stop()
    throw new Error(`${peer} did not start: ${(err as Error).message}${logTail() === '' ? '' : `; its log ends with: ${logTail()}`}`)
  }
  return broker
}

async function waitForLine (file: string, line: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!line.test(readFileSync(file, 'utf8'))) {
    if (Date.now() > deadline) throw new Error(`no line matching ${String(line)} in ${file} within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * `BENCH_BROKER_PROFILE_DIR=<dir>`: Node brokers write a CPU profile there when they stop;
 * `BENCH_BROKER_PROFILE_INTERVAL_US` sets its sampling interval (Node's default is 1,000 µs).
 */
function profileFlags (): string[] {
  const alloc = process.env.BENCH_BROKER_ALLOC_DIR === undefined || process.env.BENCH_BROKER_ALLOC_DIR === '' ? [] : ['--import', ALLOC_PROFILE]
  const dir = process.env.BENCH_BROKER_PROFILE_DIR
  if (dir === undefined || dir === '') return alloc
  const interval = Number(process.env.BENCH_BROKER_PROFILE_INTERVAL_US)
  return [...alloc, '--cpu-prof', `--cpu-prof-dir=${dir}`, ...(Number.isInteger(interval) && interval > 0 ? [`--cpu-prof-interval=${interval}`] : [])]
}

function tail (file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ')
  } catch {
    return ''
  }
}

/** `BENCH_VMQ_CONF="max_inflight_messages = 0; queue_type = lifo"`: lines added to every vmq peer's config. */
function extraConfigLines (raw: string | undefined): string[] {
  return (raw ?? '').split(';').map(l => l.trim()).filter(l => l !== '')
}
