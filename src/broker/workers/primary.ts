// The primary of `workers > 1`: binds the MQTT listeners, starts the workers
// (worker 0 first, the others join its cluster), hands each accepted
// connection to the next worker, restarts a worker that dies, and stops them
// all on SIGINT/SIGTERM.
import { fork, type ChildProcess } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import type { ListenerConfig, NodeConfig } from '../../config/load.js'
import { boundPort, listenOn } from '../listeners/listen.js'
import type { ListenerInfo } from '../listeners/types.js'
import { WORKER_COUNT_ENV, WORKER_DISCOVERY_ENV, WORKER_INDEX_ENV, WORKER_PORTS_ENV, type ToPrimary, type ToWorker } from './protocol.js'

const MQTT_TYPES = ['tcp', 'ssl', 'ws', 'wss']
const STOP_TIMEOUT_MS = 15000
const MAX_RESTARTS_PER_MINUTE = 5

export interface PrimaryOutput { line: (text: string) => void, error: (text: string) => void }

interface Worker { index: number, child: ChildProcess, ready: boolean }

export class Primary {
  private readonly servers: Array<{ key: string, server: Server }> = []
  private readonly workers: Worker[] = []
  private readonly ports: Record<string, number> = {}
  private discovery: string | undefined
  private next = 0
  private stopping = false
  private readonly restarts: number[] = []

  constructor (private readonly config: NodeConfig, private readonly count: number, private readonly argv: string[], private readonly out: PrimaryOutput) {}

  /** Binds, starts every worker, prints the summary; resolves when all are ready, with worker 0's name and listeners. */
  async start (): Promise<{ name: string, listeners: ListenerInfo[] }> {
    // logrotate signals the process it knows, the primary: the workers reopen their log files
    process.on('SIGHUP', () => { for (const w of this.workers) w?.child.kill('SIGHUP') })
    for (const l of this.config.listeners.filter(l => MQTT_TYPES.includes(l.type))) await this.bind(l)
    const first = await this.spawn(0)
    this.discovery = first.clusterAddress
    const others = await Promise.all(Array.from({ length: this.count - 1 }, async (_, i) => await this.spawn(i + 1)))
    this.out.line(`node ${first.name} started with ${this.count} workers (config: ${this.config.source})`)
    for (const l of first.listeners) this.out.line(`listener ${l.kind} ${l.name} on ${l.address}`)
    for (const w of others) this.out.line(`worker ${w.name} cluster address ${w.clusterAddress}`)
    return first
  }

  private async bind (config: ListenerConfig): Promise<void> {
    const key = `${config.type}.${config.name}`
    const server = createServer({ pauseOnConnect: true }, socket => { this.handOver(`listener.${key}`, socket) })
    await listenOn(server, config, `listener.${key}`)
    this.ports[key] = boundPort(server, config.port)
    this.servers.push({ key, server })
  }

  private handOver (listener: string, socket: Socket): void {
    const ready = this.workers.filter(w => w.ready)
    if (ready.length === 0) {
      socket.destroy()
      return
    }
    const worker = ready[this.next++ % ready.length]
    const message: ToWorker = { type: 'socket', listener }
    worker.child.send(message, socket, { keepOpen: false }, err => { if (err !== null) socket.destroy() })
  }

  private async spawn (index: number): Promise<ToPrimary & { type: 'ready' }> {
    const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_INDEX_ENV]: String(index), [WORKER_COUNT_ENV]: String(this.count), [WORKER_PORTS_ENV]: JSON.stringify(this.ports) }
    if (this.discovery !== undefined) env[WORKER_DISCOVERY_ENV] = this.discovery
    const child = fork(this.argv[1], this.argv.slice(2), { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const worker: Worker = { index, child, ready: false }
    this.workers[index] = worker
    const ready = await new Promise<ToPrimary & { type: 'ready' }>((resolve, reject) => {
      child.on('message', (message: ToPrimary) => {
        if (message.type === 'ready') { worker.ready = true; resolve(message) }
        if (message.type === 'failed') reject(new Error(message.message))
      })
      child.once('exit', code => { reject(new Error(`worker ${index} exited with ${String(code)} before it was ready`)) })
    })
    child.on('exit', code => { this.exited(worker, code) })
    return ready
  }

  private exited (worker: Worker, code: number | null): void {
    worker.ready = false
    if (this.stopping) return
    const now = Date.now()
    while (this.restarts.length > 0 && this.restarts[0] < now - 60000) this.restarts.shift()
    if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      this.out.error(`worker ${worker.index} exited (${String(code)}); not restarted: ${MAX_RESTARTS_PER_MINUTE} restarts in the last minute`)
      return
    }
    this.restarts.push(now)
    this.out.error(`worker ${worker.index} exited (${String(code)}); restarting it`)
    this.spawn(worker.index).catch((err: Error) => { this.out.error(`worker ${worker.index} did not restart: ${err.message}`) })
  }

  /** Stops accepting, asks every worker to stop, waits (bounded). */
  async stop (): Promise<void> {
    this.stopping = true
    for (const { server } of this.servers) server.close()
    await Promise.all(this.workers.filter(w => w !== undefined).map(async w => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return
      const exited = new Promise<void>(resolve => w.child.once('exit', () => resolve()))
      const message: ToWorker = { type: 'stop' }
      if (w.child.connected) w.child.send(message)
      else w.child.kill('SIGTERM')
      const timer = setTimeout(() => w.child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }))
  }
}

/** workers = 0 means one per core. */
export function workerCount (config: NodeConfig, cores: number): number {
  const n = Number(config.values.get('workers'))
  return n === 0 ? cores : n
}
