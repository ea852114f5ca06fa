// `vmq start --ports-file FILE`: where the node's listeners are, written once
// every listener is bound and the node is ready. A listener configured with
// port 0 gets its port from the kernel; this file is how a supervisor, a
// health check or a test learns it without parsing the console.
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { ListenerInfo } from './listeners/types.js'

export interface PortsFile {
  node: string
  pid: number
  listeners: ListenerInfo[]
}

/** Writes the file all at once (temp file + rename): a reader sees no file or the whole of it. */
export function writePortsFile (file: string, node: string, listeners: ListenerInfo[]): void {
  const content: PortsFile = { node, pid: process.pid, listeners }
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    writeFileSync(temp, JSON.stringify(content, null, 2) + '\n', { mode: 0o644, flag: 'wx' })
    renameSync(temp, file)
  } catch (err) {
    try { unlinkSync(temp) } catch {}
    throw new Error(`--ports-file ${file}: cannot write: ${reason(err as NodeJS.ErrnoException)}`)
  }
}

/** Removes the file at a clean stop, unless another process has written it since. */
export function removePortsFile (file: string): void {
  try {
    const content = JSON.parse(readFileSync(file, 'utf8')) as Partial<PortsFile>
    if (content.pid === process.pid) unlinkSync(file)
  } catch {}
}

function reason (err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'no such directory'
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied'
  if (err.code === 'EISDIR') return 'it is a directory'
  return err.message
}
