// CPU time and resident memory of a process and its descendants, read from /proc.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let ticksPerSecond = 0

export interface ProcSample {
  /** user + system CPU seconds of the process and its descendants */
  cpuSeconds: number
  /** resident set size in KB of the process and its descendants */
  rssKb: number
  /** monotonic time of the sample, seconds */
  at: number
  /** the machine sample only: CPU seconds the hypervisor took from this VM so far (steal) */
  stealSeconds?: number
}

export function nowSeconds (): number {
  return Number(process.hrtime.bigint()) / 1e9
}

/** Samples `pid` and every process below it; throws when `pid` is gone. */
export function sampleProcess (pid: number): ProcSample {
  let cpuSeconds = 0
  let rssKb = 0
  for (const p of [pid, ...descendants(pid)]) {
    const stat = readStat(p)
    if (stat === null) {
      if (p === pid) throw new Error(`process ${pid} is gone (no /proc/${pid}/stat)`)
      continue
    }
    cpuSeconds += (stat.utime + stat.stime) / clockTicks()
    rssKb += stat.rssPages * pageKb()
  }
  return { cpuSeconds, rssKb, at: nowSeconds() }
}

/** Fraction of one core used between two samples. */
export function cpuShare (from: ProcSample, to: ProcSample): number {
  const wall = to.at - from.at
  return wall > 0 ? (to.cpuSeconds - from.cpuSeconds) / wall : 0
}

interface Stat { ppid: number, utime: number, stime: number, rssPages: number }

function readStat (pid: number): Stat | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return { ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]), rssPages: Number(fields[21]) }
}

function descendants (root: number): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    const stat = readStat(pid)
    if (stat === null) continue
    const list = children.get(stat.ppid) ?? []
    list.push(pid)
    children.set(stat.ppid, list)
  }
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0 && found.length < 10_000) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child)
      queue.push(child)
    }
  }
  return found
}

function clockTicks (): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

let pageKbCache = 0
function pageKb (): number {
  if (pageKbCache === 0) {
    try {
      pageKbCache = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) / 1024 || 4
    } catch {
      pageKbCache = 4
    }
  }
  return pageKbCache
}

/** CPU seconds the hypervisor ran something else while this VM wanted the CPU (steal, from /proc/stat). */
export function machineStealSeconds (): number {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  return (ticks[7] ?? 0) / clockTicks()
}

/** CPU seconds all cores spent busy so far (from /proc/stat), to tell how much else was running. */
export function machineBusySeconds (): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal ...: everything but idle and iowait
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => i === 3 || i === 4 ? sum : sum + t, 0)
  return busy / clockTicks()
}
