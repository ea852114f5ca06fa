// A real redis-server for tests, on a free loopback port, nothing saved to disk.
import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { freePort } from './free-port.js'
import { waitFor } from './processes.js'

export class RedisServer {
  private proc: ChildProcess | undefined
  private output = ''
  private exited: Promise<void> = Promise.resolve()

  private constructor (readonly port: number) {}

  /** Starts redis-server on a free port (or the given one, to restart at the same address). */
  static async start (port?: number): Promise<RedisServer> {
    const server = new RedisServer(port ?? await freePort())
    await server.start()
    return server
  }

  async start (): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    this.output = ''
    let code: number | null | undefined
    proc.stdout?.on('data', (d: Buffer) => { this.output += d.toString() })
    proc.stderr?.on('data', (d: Buffer) => { this.output += d.toString() })
    this.exited = new Promise(resolve => proc.on('exit', c => { code = c; resolve() }))
    proc.on('error', err => { this.output += String(err) })
    await waitFor(() => {
      if (code !== undefined) throw new Error(`redis-server exited with ${String(code)}: ${this.output}`)
      return this.output.includes('Ready to accept connections')
    }, 10000, `redis-server on port ${this.port} (output so far: ${this.output})`)
  }

  /** Stops the server and waits until it is gone. */
  async stop (): Promise<void> {
    const proc = this.proc
    if (proc === undefined) return
    this.proc = undefined
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGCONT') // in case the test paused it
      proc.kill('SIGTERM')
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await this.exited
    clearTimeout(timer)
  }

  /** Freezes / thaws the server process: connections stay open but nothing is answered. */
  pause (): void { this.proc?.kill('SIGSTOP') }
  resume (): void { this.proc?.kill('SIGCONT') }

  /** A client for the test to write data with; the caller quits it. */
  client (): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: false, maxRetriesPerRequest: 1 })
  }
}
