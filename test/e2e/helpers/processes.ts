// Real processes for end-to-end tests: `vmq start` nodes on free loopback ports
// and CLI invocations, each bounded in time.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url))
export const VMQ = join(REPO, 'bin', 'run.js')

/**
 * A port free on 127.0.0.1 now, chosen at random BELOW the kernel's ephemeral
 * range: a port the kernel hands out (port 0) is soon taken again by some
 * client connection's local end (the fuzz and bench tests open thousands),
 * and a node started on it a moment later fails with EADDRINUSE.
 */
export async function freePort (): Promise<number> {
  const low = ephemeralLow()
  for (let i = 0; i < 50; i++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (low - PORT_FLOOR))
    if (await canListen(port)) return port
  }
  return await listenOnce(0)
}

const PORT_FLOOR = 10_000

function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > PORT_FLOOR + 1000 ? low : 32768
  } catch {
    return 32768
  }
}

async function canListen (port: number): Promise<boolean> {
  return await listenOnce(port).then(() => true, () => false)
}

/** Listens on `port` (0: any) on 127.0.0.1, closes again, and returns the port. */
async function listenOnce (port: number): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      const bound = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(bound))
    })
  })
}

export function tempDir (prefix = 'vmq-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Config lines for tests that need no authentication or authorization. */
export const OPEN_ACCESS = ['allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off']

export interface RunResult { code: number | null, stdout: string, stderr: string }

/** Runs a command to completion (killed after `timeoutMs`). */
export async function run (command: string, args: string[], opts: { env?: NodeJS.ProcessEnv, input?: string, cwd?: string, timeoutMs?: number } = {}): Promise<RunResult> {
  const child = spawn(command, args, { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdio: 'pipe' })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdin.on('error', () => {}) // the command may exit without reading its input
  child.stdin.end(opts.input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Runs the vmq CLI. */
export async function vmq (args: string[], opts: { env?: NodeJS.ProcessEnv, input?: string, cwd?: string } = {}): Promise<RunResult> {
  return await run(process.execPath, [VMQ, ...args], opts)
}

export interface NodeOptions {
  /** extra vernemq.conf lines */
  conf?: string[]
  env?: NodeJS.ProcessEnv
  /** do not wait for the node to be ready */
  noWait?: boolean
  name?: string
  /** type of the cluster listener: vmqs needs its certfile/keyfile lines in `conf` */
  clusterType?: 'vmq' | 'vmqs'
}

export class TestNode {
  stdout = ''
  stderr = ''
  exitCode: number | null | undefined = undefined
  private readonly exited: Promise<number | null>

  constructor (readonly proc: ChildProcess, readonly dir: string, readonly confFile: string, readonly mqttPort: number, readonly wsPort: number, readonly adminPort: number, readonly nodename: string) {
    proc.stdout?.on('data', (d: Buffer) => { this.stdout += d.toString() })
    proc.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString() })
    this.exited = new Promise(resolve => proc.on('exit', code => { this.exitCode = code; resolve(code) }))
  }

  get adminAddress (): string { return `127.0.0.1:${this.adminPort}` }
  get mqttUrl (): string { return `mqtt://127.0.0.1:${this.mqttPort}` }

  /** vmq CLI against this node. */
  async admin (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return await vmq([...args, '--node', this.adminAddress], { env })
  }

  async waitReady (timeoutMs = 15000): Promise<void> {
    await waitFor(() => {
      if (this.exitCode !== undefined) throw new Error(`node exited with ${String(this.exitCode)}: ${this.stderr}${this.stdout}`)
      return /listener vmqs? /.test(this.stdout)
    }, timeoutMs, `node ready (stdout so far: ${this.stdout})`)
  }

  async waitExit (timeoutMs = 15000): Promise<number | null> {
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs)
    const code = await this.exited
    clearTimeout(timer)
    return code
  }

  async stop (): Promise<number | null> {
    if (this.exitCode === undefined) this.proc.kill('SIGTERM')
    return await this.waitExit()
  }

  async kill (): Promise<void> {
    if (this.exitCode === undefined) this.proc.kill('SIGKILL')
    await this.exited
  }

  cleanup (): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Starts `vmq start -c <generated conf>` with every listener on a free loopback port. */
export async function startNode (opts: NodeOptions = {}): Promise<TestNode> {
  const dir = tempDir()
  const [mqttPort, wsPort, adminPort] = [await freePort(), await freePort(), await freePort()]
  const nodename = opts.name ?? `test${adminPort}@127.0.0.1`
  const extra = opts.conf ?? []
  // a key given in opts.conf replaces the base line (a file may not give a key twice)
  const given = new Set(extra.map(confKey))
  const conf = [
    `nodename = ${nodename}`,
    `listener.tcp.default = 127.0.0.1:${mqttPort}`,
    `listener.ws.default = 127.0.0.1:${wsPort}`,
    `listener.${opts.clusterType ?? 'vmq'}.clustering = 127.0.0.1:${adminPort}`,
    `persistent_dir = ${join(dir, 'data')}`,
    `log.console.file = ${join(dir, 'console.log')}`,
    `log.error.file = ${join(dir, 'error.log')}`
  ].filter(line => !given.has(confKey(line))).concat(extra)
  const confFile = join(dir, 'vernemq.conf')
  writeFileSync(confFile, conf.join('\n') + '\n')
  const env = { ...process.env, ...opts.env }
  for (const key of Object.keys(env)) if (key.startsWith('DOCKER_VERNEMQ_') && opts.env?.[key] === undefined) delete env[key]
  const proc = spawn(process.execPath, [VMQ, 'start', '-c', confFile], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const node = new TestNode(proc, dir, confFile, mqttPort, wsPort, adminPort, nodename)
  if (opts.noWait !== true) await node.waitReady()
  return node
}

function confKey (line: string): string {
  return line.split('=')[0].trim()
}

/** Polls `check` until it returns true (bounded), rethrowing what it throws. */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Starts a stopped node again: same directory, config file, ports and name. */
export async function restartNode (old: TestNode): Promise<TestNode> {
  const proc = spawn(process.execPath, [VMQ, 'start', '-c', old.confFile], { cwd: old.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  const node = new TestNode(proc, old.dir, old.confFile, old.mqttPort, old.wsPort, old.adminPort, old.nodename)
  await node.waitReady()
  return node
}
