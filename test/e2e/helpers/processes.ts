// Real processes for end-to-end tests: `vmq start` nodes whose listeners bind
// port 0 (the kernel picks a free port, no probing race) and report where they
// are through --ports-file, and CLI invocations, each bounded in time.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PortsFile } from '../../../src/broker/ports-file.js'
import { resolveTarget } from '../../../src/cli/target.js'
import { AdminClient } from '../../../src/rpc/client.js'
import type { Table__Output } from '../../../src/rpc/generated/vmq/Table.js'
import { fromTable } from '../../../src/rpc/table.js'

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url))
export const VMQ = join(REPO, 'bin', 'run.js')

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
  /** TLS files for the readiness call when the config's own (what the node presents to peers) do not fit the node's certificate */
  adminTls?: AdminTls
}

/** As the CLI's --tls-cafile, --tls-certfile and --tls-keyfile. */
export interface AdminTls { 'tls-cafile'?: string, 'tls-certfile'?: string, 'tls-keyfile'?: string }

/**
 * The nodes this test process started and that still run. When the process
 * ends before a test's `after` stops them (the runner ends a file that timed
 * out), they are killed with it instead of running on.
 */
const running = new Set<ChildProcess>()
function killRunning (): void {
  for (const proc of running) proc.kill('SIGKILL')
}
process.once('exit', killRunning)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killRunning()
    process.exit(1)
  })
}

/** A process a test started some other way (a README's `vmq start ... &`): killed with the test process too. */
export function killWithTests (proc: ChildProcess): void {
  running.add(proc)
  proc.once('exit', () => { running.delete(proc) })
}

/** How a TestNode runs `vmq start`: its config, where it runs, its environment. */
export interface NodeLaunch {
  dir: string
  confFile: string
  nodename: string
  /** working directory of the node (default: dir) */
  cwd?: string
  /** the environment the node runs with (DOCKER_VERNEMQ_* included) */
  env?: NodeJS.ProcessEnv
  adminTls?: AdminTls
}

export class TestNode {
  stdout = ''
  stderr = ''
  exitCode: number | null | undefined = undefined
  /** bound port of each listener by name (tcp.default, ws.default, vmq.clustering...), known once ready */
  ports: Record<string, number> = {}
  /** the bound port of the cluster (admin) listener */
  adminPort = 0
  readonly proc: ChildProcess
  readonly dir: string
  readonly confFile: string
  readonly nodename: string
  /** where the node writes its bound ports (vmq start --ports-file) */
  readonly portsFile: string
  private readonly exited: Promise<number | null>

  constructor (readonly launch: NodeLaunch) {
    this.dir = launch.dir
    this.confFile = launch.confFile
    this.nodename = launch.nodename
    this.portsFile = join(launch.dir, 'ports.json')
    rmSync(this.portsFile, { force: true }) // a killed node leaves its file behind
    this.proc = spawn(process.execPath, [VMQ, 'start', '-c', launch.confFile, '--ports-file', this.portsFile], { cwd: launch.cwd ?? launch.dir, env: launch.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc.stdout?.on('data', (d: Buffer) => { this.stdout += d.toString() })
    this.proc.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString() })
    running.add(this.proc)
    this.exited = new Promise(resolve => this.proc.on('exit', code => { running.delete(this.proc); this.exitCode = code; resolve(code) }))
  }

  get mqttPort (): number { return this.ports['tcp.default'] ?? 0 }
  get wsPort (): number { return this.ports['ws.default'] ?? 0 }
  get adminAddress (): string { return `127.0.0.1:${this.adminPort}` }
  get mqttUrl (): string { return `mqtt://127.0.0.1:${this.mqttPort}` }

  /** The bound port of listener `name` (as in listener.NAME: tcp.default, ssl.default, http.default...). */
  port (name: string): number {
    const port = this.ports[name]
    if (port === undefined) throw new Error(`${this.nodename} has no listener ${name} (it has ${Object.keys(this.ports).join(', ')})`)
    return port
  }

  /** vmq CLI against this node. */
  async admin (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return await vmq([...args, '--node', this.adminAddress], { env })
  }

  /**
   * Ready: the node wrote its ports file (every listener bound), and an admin
   * call (listener show) reaches it and lists its listeners running on those ports.
   */
  async waitReady (timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let ports: PortsFile | undefined
    await waitFor(() => {
      this.throwIfExited()
      ports = this.readPortsFile()
      return ports !== undefined
    }, timeoutMs, `${this.portsFile} (stdout so far: ${this.stdout})`)
    if (ports === undefined) return
    this.ports = Object.fromEntries(ports.listeners.map(l => [l.name, l.port]))
    this.adminPort = ports.listeners.find(l => l.kind === 'vmq' || l.kind === 'vmqs')?.port ?? 0
    const expected = ports.listeners.map(l => `${l.kind} ${l.port} running`).sort()
    let shown: string[] = []
    await waitFor(async () => {
      this.throwIfExited()
      shown = await this.listenersShown().catch(() => [])
      return shown.join() === expected.join()
    }, Math.max(deadline - Date.now(), 1000), `listener show on ${this.adminAddress} to list ${expected.join(', ')} (got ${shown.join(', ')})`)
  }

  private throwIfExited (): void {
    if (this.exitCode !== undefined) throw new Error(`node exited with ${String(this.exitCode)}: ${this.stderr}${this.stdout}`)
  }

  private readPortsFile (): PortsFile | undefined {
    try {
      return JSON.parse(readFileSync(this.portsFile, 'utf8')) as PortsFile
    } catch {
      return undefined // not written yet (it appears whole: written to a temp file, then renamed)
    }
  }

  /** `listener show` over gRPC, with the cookie and TLS files of the node's config: "kind port status" per listener. */
  private async listenersShown (): Promise<string[]> {
    const target = resolveTarget({ config: this.confFile, node: this.adminAddress, ...this.launch.adminTls }, this.launch.env ?? process.env)
    const client = new AdminClient(target.address, target.cookie, 2000, target.tls)
    try {
      const table = await client.call<object, Table__Output>('ListenerShow', { tls: false, mqtt: false })
      return fromTable(table).map(row => `${String(row.type)} ${String(row.port)} ${String(row.status)}`).sort()
    } finally {
      client.close()
    }
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

/** Starts `vmq start -c <generated conf>` with every listener on port 0 of 127.0.0.1. */
export async function startNode (opts: NodeOptions = {}): Promise<TestNode> {
  const dir = tempDir()
  const nodename = opts.name ?? `${basename(dir).replace(/^vmq-/, '').replace(/[^A-Za-z0-9]/g, '')}@127.0.0.1`
  const extra = opts.conf ?? []
  // a key given in opts.conf replaces the base line (a file may not give a key twice)
  const given = new Set(extra.map(confKey))
  const conf = [
    `nodename = ${nodename}`,
    'listener.tcp.default = 127.0.0.1:0',
    'listener.ws.default = 127.0.0.1:0',
    `listener.${opts.clusterType ?? 'vmq'}.clustering = 127.0.0.1:0`,
    `persistent_dir = ${join(dir, 'data')}`,
    `log.console.file = ${join(dir, 'console.log')}`,
    `log.error.file = ${join(dir, 'error.log')}`
  ].filter(line => !given.has(confKey(line))).concat(extra)
  const confFile = join(dir, 'vernemq.conf')
  writeFileSync(confFile, conf.join('\n') + '\n')
  const node = new TestNode({ dir, confFile, nodename, env: nodeEnv(opts.env), adminTls: opts.adminTls })
  if (opts.noWait !== true) await readyOrKilled(node)
  return node
}

/**
 * Waits for the node to be ready; one that is not is killed before the error
 * goes on (a node left running would keep the test file from ending).
 */
async function readyOrKilled (node: TestNode, timeoutMs?: number): Promise<void> {
  try {
    await node.waitReady(timeoutMs)
  } catch (err) {
    await node.kill()
    throw err
  }
}

/** The tests' environment without DOCKER_VERNEMQ_* variables, unless `env` sets them. */
function nodeEnv (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const all = { ...process.env, ...env }
  for (const key of Object.keys(all)) if (key.startsWith('DOCKER_VERNEMQ_') && env[key] === undefined) delete all[key]
  return all
}

/** Starts `vmq start -c confFile` for a config a test wrote itself (its listeners on port 0), and waits until it is ready. */
export async function startWithConfig (launch: NodeLaunch, timeoutMs?: number): Promise<TestNode> {
  const node = new TestNode({ ...launch, env: nodeEnv(launch.env) })
  await readyOrKilled(node, timeoutMs)
  return node
}

/**
 * Starts a stopped or killed node again on its config and data dir. By
 * default on the ports it had: its clients and its cluster peers reconnect to
 * the address they know, as after an operator's restart; the port-0 lines of
 * its config are given the ports the node got, and a port taken in between
 * (by some connection's local end) is waited for, a few times. With
 * `newPorts` its listeners bind port 0 again.
 */
export async function restartNode (node: TestNode, opts: { timeoutMs?: number, newPorts?: boolean } = {}): Promise<TestNode> {
  if (node.exitCode === undefined) throw new Error(`${node.nodename} is still running`)
  if (opts.newPorts !== true) {
    const text = readFileSync(node.confFile, 'utf8').replace(/^listener\.([a-z]+\.[A-Za-z0-9_-]+)\s*=\s*(.+):0\s*$/mg, (line, name: string, host: string) => {
      const port = node.ports[name]
      return port === undefined ? line : `listener.${name} = ${host}:${port}`
    })
    writeFileSync(node.confFile, text)
  }
  for (let attempt = 1; ; attempt++) {
    const again = new TestNode(node.launch)
    try {
      await readyOrKilled(again, opts.timeoutMs)
      return again
    } catch (err) {
      if (attempt >= 3 || !again.stderr.includes('cannot listen: address already in use')) throw err
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
  }
}

/**
 * Waits (bounded) for the ports file of `vmq start --ports-file FILE` and
 * returns the bound port of each listener by name (tcp.default, vmq.clustering...).
 */
export async function waitForPorts (file: string, exited: () => boolean, timeoutMs: number): Promise<Record<string, number>> {
  let ports: Record<string, number> | undefined
  await waitFor(() => {
    if (exited()) throw new Error(`the node exited before it wrote ${file}`)
    try {
      const content = JSON.parse(readFileSync(file, 'utf8')) as PortsFile
      ports = Object.fromEntries(content.listeners.map(l => [l.name, l.port]))
    } catch {}
    return ports !== undefined
  }, timeoutMs, file)
  return ports ?? {}
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
