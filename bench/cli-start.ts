// How long a CLI call takes from spawn to exit, against `node -e 0` in the same
// run: one `vmq start` node, then rounds that each run every command once, in
// turn, so a busy moment of the machine spreads over all of them.
// Run: npm run build && node dist/bench/cli-start.js [--runs 10] [--base DIR]
//   --base DIR: also time the CLI of another built checkout (bin/run.js there),
//   e.g. the commit before a change, in the same rounds.
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO } from '../test/e2e/helpers/processes.js'
import { startVmqNode } from './vmq-node.js'

const TIMEOUT_MS = 30_000

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

function timeOnce (c: Case): number {
  c.before?.()
  const started = performance.now()
  const result = spawnSync(process.execPath, c.args, { encoding: 'utf8', timeout: TIMEOUT_MS })
  const ms = performance.now() - started
  if (result.status !== c.code) {
    throw new Error(`${c.label}: exit ${String(result.status)} (expected ${c.code})\n${result.stdout}${result.stderr}`)
  }
  return ms
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
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
    const times = cases.map(() => [] as number[])
    for (let round = 0; round < runs; round++) {
      cases.forEach((c, i) => times[i].push(timeOnce(c)))
    }
    const baseline = median(times[0])
    const width = Math.max(...cases.map(c => c.label.length))
    process.stdout.write(`medians of ${runs} runs (ms), spawn to exit:\n`)
    cases.forEach((c, i) => {
      const m = median(times[i])
      process.stdout.write(`${c.label.padEnd(width)}  ${m.toFixed(0).padStart(5)}  ${(m / baseline).toFixed(2)}x node -e 0\n`)
    })
  } finally {
    await node.stop()
  }
}

await main()
