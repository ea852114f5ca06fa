// The runner's side of the load workers: spawns them pinned to the generator core and
// turns the IPC channel into awaited calls with deadlines.
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { spawnPinned, stopChild } from '../proc/children.js'
import type { Command, Reply, Stats } from './protocol.js'

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url))

export class Worker {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void }>()
  private exited: string | null = null

  private constructor (readonly name: string, private readonly child: ChildProcess) {
    child.on('message', (message: Reply) => {
      const waiter = this.pending.get(message.id)
      if (waiter === undefined) return
      this.pending.delete(message.id)
      if (message.ok) waiter.resolve(message.result)
      else waiter.reject(new Error(`${name}: ${message.error}`))
    })
    child.once('exit', (code, signal) => {
      this.exited = `load worker ${name} exited (${signal ?? `code ${String(code)}`})`
      for (const waiter of this.pending.values()) waiter.reject(new Error(this.exited))
      this.pending.clear()
    })
  }

  static spawn (name: string, core: number | undefined): Worker {
    // BENCH_PROFILE_DIR=<dir> writes a CPU profile of each load worker there (to see what limits the generator).
    const profile = process.env.BENCH_PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    return new Worker(name, spawnPinned(process.execPath, [...profile, WORKER_SCRIPT], { core, ipc: true, output: 'inherit' }))
  }

  get pid (): number { return this.child.pid ?? -1 }

  async call<T> (command: Command, timeoutMs = 10_000): Promise<T> {
    if (this.exited !== null) throw new Error(this.exited)
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`load worker ${this.name}: no answer to '${command.cmd}' within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: value => { clearTimeout(timer); resolve(value as T) },
        reject: err => { clearTimeout(timer); reject(err) }
      })
      this.child.send({ ...command, id })
    })
  }

  /** Sends a command without waiting for its answer. */
  notify (command: Command): void {
    if (this.exited === null && this.child.connected) this.child.send({ ...command, id: 0 })
  }

  async stats (): Promise<Stats> {
    return await this.call<Stats>({ cmd: 'stats' })
  }

  /** Closes its connections (bounded) and ends the process. */
  async shutdown (): Promise<void> {
    if (this.exited === null) {
      try {
        await this.call({ cmd: 'close' }, 5000)
      } catch {
        // killed below anyway
      }
    }
    // A worker exits by itself once the channel closes; signals are for one that does not.
    const exited = new Promise<void>(resolve => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve()
      else this.child.once('exit', () => resolve())
    })
    if (this.child.connected) this.child.disconnect()
    const timer = setTimeout(() => { stopChild(this.child, 2000).catch(() => {}) }, 2000)
    await exited
    clearTimeout(timer)
  }
}

export function sumStats (list: Stats[]): Stats {
  const total: Stats = { sent: 0, acked: 0, received: 0, dup: 0, forgiven: 0, open: 0, errors: 0, firstError: null, cpuMicros: 0, at: 0 }
  for (const s of list) {
    total.sent += s.sent
    total.acked += s.acked
    total.received += s.received
    total.dup += s.dup
    total.forgiven += s.forgiven
    total.open += s.open
    total.errors += s.errors
    total.firstError ??= s.firstError
    total.cpuMicros += s.cpuMicros
    total.at = Math.max(total.at, s.at)
  }
  return total
}
