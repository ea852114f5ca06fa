// bcrypt checks on a few worker threads. bcryptjs' own async mode still runs
// on the event loop in 100 ms slices, which would stall every connected client.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { BcryptReply, BcryptRequest } from './bcrypt-worker.js'

interface Pending { resolve: (ok: boolean) => void, reject: (err: Error) => void }

class BcryptWorker {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  dead = false

  constructor (private readonly onDeath: (w: BcryptWorker) => void) {
    this.worker = new Worker(new URL('./bcrypt-worker.js', import.meta.url))
    this.worker.unref()
    this.worker.on('message', (reply: BcryptReply) => this.settle(reply))
    this.worker.on('error', err => this.die(err))
    this.worker.on('exit', code => this.die(new Error(`bcrypt worker exited with code ${code}`)))
  }

  get load (): number { return this.pending.size }

  async compare (id: number, password: string, hash: string): Promise<boolean> {
    const done = new Promise<boolean>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    // Keep the process alive only while a check is outstanding.
    if (this.pending.size === 1) this.worker.ref()
    this.worker.postMessage({ id, password, hash } satisfies BcryptRequest)
    return await done
  }

  async terminate (): Promise<void> {
    this.dead = true
    await this.worker.terminate()
  }

  private settle (reply: BcryptReply): void {
    const waiting = this.pending.get(reply.id)
    if (waiting === undefined) return
    this.pending.delete(reply.id)
    if (this.pending.size === 0) this.worker.unref()
    if (reply.error !== undefined) waiting.reject(new Error(`bcrypt: ${reply.error}`))
    else waiting.resolve(reply.ok)
  }

  private die (err: Error): void {
    if (!this.dead) this.onDeath(this)
    this.dead = true
    for (const waiting of this.pending.values()) waiting.reject(err)
    this.pending.clear()
  }
}

const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1))
let workers: BcryptWorker[] = []
let nextId = 1

/** True when `password` matches the bcrypt `hash` ($2a$/$2b$/$2y$); runs on a worker thread. */
export async function verifyBcrypt (password: string, hash: string): Promise<boolean> {
  return await pickWorker().compare(nextId++, password, hash)
}

/** Stops the worker threads (they are started again on the next check). */
export async function stopBcryptWorkers (): Promise<void> {
  const stopping = workers
  workers = []
  await Promise.all(stopping.map(async w => await w.terminate()))
}

function pickWorker (): BcryptWorker {
  const idle = workers.find(w => w.load === 0)
  if (idle !== undefined) return idle
  if (workers.length < POOL_SIZE) {
    const w = new BcryptWorker(dead => { workers = workers.filter(x => x !== dead) })
    workers.push(w)
    return w
  }
  return workers.reduce((a, b) => (b.load < a.load ? b : a))
}
