// One `vmq start` node for the single-broker scripts in bench/ (fuzz,
// subscriptions): open access, every listener on port 0 of 127.0.0.1, its
// files in a temp directory removed by stop().
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { tempDir, VMQ, waitForPorts } from '../test/e2e/helpers/processes.js'

export interface VmqNode {
  proc: ChildProcess
  port: number
  wsPort: number
  /** bound port of every listener by name (tcp.default, http.default...) */
  ports: Record<string, number>
  dir: string
  /** the node's exit code once it has exited, else undefined */
  exitCode: () => number | null | undefined
  /** the last MB the node printed on stdout (its log at the configured level) */
  output: () => string
  /** node RSS in KB (from /proc) */
  rssKb: () => number
  stop: () => Promise<void>
}

const READY_MS = 20_000
const OUTPUT_KEPT = 1 << 20

export async function startVmqNode (extraConf: string[] = []): Promise<VmqNode> {
  const dir = tempDir('vmq-bench-node-')
  const conf = join(dir, 'vernemq.conf')
  const portsFile = join(dir, 'ports.json')
  writeFileSync(conf, [
    `nodename = bench${basename(dir).replace(/[^A-Za-z0-9]/g, '')}@127.0.0.1`, 'listener.tcp.default = 127.0.0.1:0', 'listener.ws.default = 127.0.0.1:0',
    'listener.vmq.clustering = 127.0.0.1:0', `persistent_dir = ${join(dir, 'data')}`, `log.console.file = ${join(dir, 'console.log')}`,
    `log.error.file = ${join(dir, 'error.log')}`, 'allow_anonymous = on', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = off', ...extraConf
  ].join('\n') + '\n')
  const proc = spawn(process.execPath, [VMQ, 'start', '-c', conf, '--ports-file', portsFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let exit: number | null | undefined
  proc.once('exit', code => { exit = code })
  let stderr = ''
  // read stdout all along (a full pipe would block the node), keeping the last MB
  let stdout = ''
  proc.stdout?.on('data', (d: Buffer) => { stdout = (stdout + d.toString()).slice(-OUTPUT_KEPT) })
  proc.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const ports = await waitForPorts(portsFile, () => exit !== undefined, READY_MS).catch((err: Error) => {
    throw new Error(`${err.message}: ${stderr}`)
  })
  return {
    proc,
    port: ports['tcp.default'],
    wsPort: ports['ws.default'],
    ports,
    dir,
    exitCode: () => exit,
    output: () => stdout,
    rssKb: () => {
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid as number}/status`, 'utf8'))
      return match === null ? 0 : Number(match[1])
    },
    stop: async () => {
      if (exit === undefined) {
        proc.kill('SIGTERM')
        await new Promise(resolve => proc.once('exit', resolve))
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
