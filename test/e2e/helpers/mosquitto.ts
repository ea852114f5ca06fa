// A real mosquitto as the remote broker of bridge tests, on a loopback port.
// mosquitto cannot listen on port 0, so the port is picked like a node's
// (freePort: a random free one below the ephemeral range) and written into its
// generated config; a restart reuses that port.
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from './processes.js'
import { freePort } from './free-port.js'

export const MOSQUITTO = '/usr/sbin/mosquitto'

export interface MosquittoTls { cafile: string, certfile: string, keyfile: string, requireCertificate: boolean }

export class Mosquitto {
  private proc: ChildProcess | undefined
  log = ''

  /** persistent: sessions and queued messages survive a restart (saved at stop, in dir) */
  private constructor (readonly dir: string, readonly port: number, private readonly tls?: MosquittoTls, private readonly persistent = false, private readonly extra: string[] = []) {}

  /** extra: more mosquitto.conf lines (they apply to the listener) */
  static async start (dir: string, tls?: MosquittoTls, persistent = false, extra: string[] = []): Promise<Mosquitto> {
    const broker = new Mosquitto(dir, await freePort(), tls, persistent, extra)
    await broker.run()
    return broker
  }

  get url (): string { return `${this.tls === undefined ? 'mqtt' : 'mqtts'}://127.0.0.1:${this.port}` }

  private config (): string {
    const persistence = this.persistent ? ['persistence true', `persistence_location ${this.dir}/`] : ['persistence false']
    // started as root, mosquitto drops to its own user, which cannot read the test's private temp dir
    const user = process.getuid?.() === 0 ? ['user root'] : []
    const anonymous = this.extra.some(l => l.startsWith('allow_anonymous')) ? [] : ['allow_anonymous true']
    const lines = [...user, `listener ${this.port} 127.0.0.1`, ...anonymous, ...this.extra, ...persistence, 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information']
    if (this.tls !== undefined) {
      lines.push(`cafile ${this.tls.cafile}`, `certfile ${this.tls.certfile}`, `keyfile ${this.tls.keyfile}`, `require_certificate ${String(this.tls.requireCertificate)}`)
    }
    return lines.join('\n') + '\n'
  }

  /** Starts mosquitto and waits until it listens. */
  async run (): Promise<void> {
    const conf = join(this.dir, `mosquitto-${this.port}.conf`)
    writeFileSync(conf, this.config())
    const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    let exited = false
    proc.on('exit', () => { exited = true })
    proc.stderr?.on('data', (d: Buffer) => { this.log += d.toString() })
    proc.stdout?.on('data', (d: Buffer) => { this.log += d.toString() })
    const mark = this.log.length
    await waitFor(() => {
      if (exited) throw new Error(`mosquitto exited: ${this.log}`)
      return /Opening ipv4 listen socket on port/.test(this.log.slice(mark)) && / running/.test(this.log.slice(mark))
    }, 10000, `mosquitto listening on ${this.port}`)
  }

  /** Stops mosquitto (SIGTERM, SIGKILL after 5 s) and waits for its exit. */
  async stop (): Promise<void> {
    const proc = this.proc
    this.proc = undefined
    if (proc === undefined || proc.exitCode !== null) return
    const exited = new Promise<void>(resolve => proc.once('exit', () => { resolve() }))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}
