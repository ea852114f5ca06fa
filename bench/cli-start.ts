// How long a CLI call takes from spawn to exit, against `node -e 0` in the same
// run: one `vmq start` node, then rounds that each run every command once, in
// turn, so a busy moment of the machine spreads over all of them. Besides the
// median wall time, the mean CPU time (user + system) of each command, which
// other work on the machine inflates far less.
// Run: npm run build && node dist/bench/cli-start.js [--runs 10] [--base DIR]
//   --base DIR: also time the CLI of another built checkout (bin/run.js there),
//   e.g. the commit before a change, in the same rounds.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO } from '../test/e2e/helpers/processes.js'
import { startVmqNode } from './vmq-node.js'

const TIMEOUT_MS = 30_000
/** Linux clock ticks per second (USER_HZ) of /proc/<pid>/stat times */
const TICKS_PER_S = 100

interface Case {
  label: string
  args: string[]
  /** the exit code a successful run has */
  code: number
  /** runs before each timed run (not timed), e.g. removing the file `passwd -c` creates */
  before?: () => void
}

function cliCases (label: string, repo: string, adminAddress: string, passwdFile: string): Case[] {
  const bin = join(repo, 'bin', 'run.js')
  const suffix = label === '' ? '' : ` (${label})`
  return [
    { label: `vmq-admin cluster show${suffix}`, args: [bin, 'cluster', 'show', '--node', adminAddress], code: 0 },
    { label: `vmq --help${suffix}`, args: [bin, '--help'], code: 0 },
    {
      label: `vmq passwd -c${suffix}`,
      args: [bin, 'passwd', '-c', passwdFile, 'bench', '--password', 'secret'],
      code: 0,
      before: () => { rmSync(passwdFile, { force: true }) }
    }
  ]
}

/** CPU ms (user + system) used so far by this process's finished children (ticks of 10 ms: meaningful summed over runs). */
function childrenCpuMs (): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) * 1000 / TICKS_PER_S
}

function timeOnce (c: Case): { wallMs: number, cpuMs: number } {
  c.before?.()
  const cpuBefore = childrenCpuMs()
  const started = performance.now()
  const result = spawnSync(process.execPath, c.args, { encoding: 'utf8', timeout: TIMEOUT_MS })
  const wallMs = performance.now() - started
  if (result.status !== c.code) {
    throw new Error(`${c.label}: exit ${String(result.status)} (expected ${c.code})\n${result.stdout}${result.stderr}`)
  }
  return { wallMs, cpuMs: childrenCpuMs() - cpuBefore }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function mean (values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, base: { type: 'string' } } })
  const runs = Number(values.runs)
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new Error(`--runs ${String(values.runs)}: expected an integer from 1 to 1000`)
  if (values.base !== undefined && !existsSync(join(values.base, 'bin', 'run.js'))) throw new Error(`--base ${values.base}: no bin/run.js there`)
  const node = await startVmqNode()
  try {
    const admin = /listener vmq \S+ on (\S+)/.exec(node.output())?.[1]
    if (admin === undefined) throw new Error(`no cluster listener in the node's output: ${node.output()}`)
    const cases: Case[] = [
      { label: 'node -e 0', args: ['-e', '0'], code: 0 },
      ...cliCases('', REPO, admin, join(node.dir, 'passwd-this')),
      ...(values.base === undefined ? [] : cliCases('base', values.base, admin, join(node.dir, 'passwd-base')))
    ]
    const wall = cases.map(() => [] as number[])
    const cpu = cases.map(() => [] as number[])
    for (let round = 0; round < runs; round++) {
      cases.forEach((c, i) => {
        const t = timeOnce(c)
        wall[i].push(t.wallMs)
        cpu[i].push(t.cpuMs)
      })
    }
    const baseWall = median(wall[0])
    const baseCpu = mean(cpu[0])
    const width = Math.max(...cases.map(c => c.label.length))
    process.stdout.write(`${runs} runs each, alternating; wall: median ms from spawn to exit; cpu: mean user+system ms\n`)
    process.stdout.write(`${''.padEnd(width)}   wall  ratio    cpu  ratio\n`)
    cases.forEach((c, i) => {
      const w = median(wall[i])
      const u = mean(cpu[i])
      process.stdout.write(`${c.label.padEnd(width)}  ${w.toFixed(0).padStart(5)}  ${(w / baseWall).toFixed(2)}x  ${u.toFixed(0).padStart(5)}  ${(u / baseCpu).toFixed(2)}x\n`)
    })
  } finally {
    await node.stop()
  }
}

await main()
