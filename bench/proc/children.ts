// Every process the bench starts goes through here, so that all of them are pinned to a
// core, get the file-descriptor soft limit raised to the hard limit, and die with the runner.
import { spawn, execFileSync, type ChildProcess, type StdioOptions } from 'node:child_process'
import { rmSync } from 'node:fs'

const live = new Set<ChildProcess>()
const scratch = new Set<string>()
let hooked = false

export interface SpawnPinnedOptions {
  /** CPU core(s) to pin to with `taskset -c` (a number or a list like '0,1'); undefined = not pinned. */
  core?: number | string
  /** Open an IPC channel (the child must be a node script). */
  ipc?: boolean
  /** Where the child's stdout and stderr go: a file descriptor, 'inherit', 'ignore' or 'pipe'. */
  output?: number | 'inherit' | 'ignore' | 'pipe'
  /** Keep a pipe on stdin open; a node child can exit when it closes (the runner died). */
  stdinPipe?: boolean
  env?: NodeJS.ProcessEnv
}

/** Starts `command args` through `sh -c 'ulimit -n <hard>; exec taskset -c <core> ...'`: the pid is the command's own. */
export function spawnPinned (command: string, args: string[], options: SpawnPinnedOptions = {}): ChildProcess {
  hookExit()
  const pin = options.core === undefined ? [] : ['taskset', '-c', String(options.core)]
  const script = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"'
  const output = options.output ?? 'inherit'
  const stdio: StdioOptions = [options.stdinPipe === true ? 'pipe' : 'ignore', output, output]
  if (options.ipc === true) stdio.push('ipc')
  const child = spawn('/bin/sh', ['-c', script, 'sh', ...pin, command, ...args], { stdio, env: options.env ?? process.env })
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  return child
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopChild (child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Kills every child still running and removes the scratch directories (synchronously, so it also works from an 'exit' handler). */
export function killAllChildren (): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  live.clear()
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
  scratch.clear()
}

/** A directory to remove when the runner stops, however it stops; `done` removes it now. */
export function scratchDir (dir: string): { done: () => void } {
  hookExit()
  scratch.add(dir)
  return {
    done: () => {
      scratch.delete(dir)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

function hookExit (): void {
  if (hooked) return
  hooked = true
  process.once('exit', killAllChildren)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren()
      process.stderr.write(`bench: stopped by ${signal}; all child processes killed\n`)
      process.exit(130)
    })
  }
}

/** Checks that `taskset` can pin to `core`; returns a message naming the problem, or null. */
export function checkPinning (core: number): string | null {
  try {
    execFileSync('taskset', ['-c', String(core), 'true'], { stdio: 'pipe' })
    return null
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer }
    if (e.code === 'ENOENT') return 'taskset not found: install the util-linux package (apt-get install util-linux)'
    return `taskset cannot pin to core ${core}: ${String(e.stderr ?? e.message).trim()}`
  }
}

/** Pins every thread of this process to `core` (the runner sits with the load generator). */
export function pinSelf (core: number): void {
  try {
    execFileSync('taskset', ['-a', '-c', '-p', String(core), String(process.pid)], { stdio: 'ignore' })
  } catch {
    // Not fatal: the runner does little work while a window is open.
  }
}

/** The file-descriptor hard limit children get (their soft limit is raised to it). */
export function fdHardLimit (): number {
  const out = execFileSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()
  return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out)
}
