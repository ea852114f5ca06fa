// Reading password files tolerantly: blank lines and `#` comments are skipped,
// CRLF is accepted, and a bad line is reported as `file:line: reason` and skipped
// while every good line still loads. One line per user: `username:<hash>`.
import { readFile } from 'node:fs/promises'
import type { FileProblem } from '../broker/auth/types.js'
import { parseHash } from './hash.js'
import { shown } from '../config/shown.js'

export interface PasswordTable {
  /**
   * username → hash text as in the file (checked to parse; verify with
   * verifyHashText). Kept as text so that a big file loads with few objects
   * that outlive the load. When a user appears twice the later line wins (as
   * in VerneMQ, whose table takes the lines in order) and `repeated` says so.
   */
  users: Map<string, string>
  problems: FileProblem[]
  /** later lines of a user already listed: `file:line: user X given again (first at line N)...` */
  repeated: FileProblem[]
}

/** A table being filled, with the first line of each user for the `repeated` notes. */
interface Parsing { table: PasswordTable, firstLine: Map<string, number> }

function newParsing (): Parsing {
  return { table: { users: new Map(), problems: [], repeated: [] }, firstLine: new Map() }
}

export type LineResult =
  | { kind: 'skip' }
  | { kind: 'user', username: string, hash: string }
  | { kind: 'bad', message: string }

/** Classifies one line (without its line break; a trailing CR is ignored). */
export function parseLine (raw: string): LineResult {
  const line = stripCr(raw)
  if (line.trim() === '' || line.trimStart().startsWith('#')) return { kind: 'skip' }
  const colon = line.indexOf(':')
  if (colon < 0) return { kind: 'bad', message: "no ':' between username and password hash" }
  if (colon === 0) return { kind: 'bad', message: 'empty username' }
  const username = line.slice(0, colon)
  const hash = line.slice(colon + 1).trimEnd()
  if (hash.includes(':')) return { kind: 'bad', message: `more than one ':' (usernames may not contain ':')` }
  const parsed = parseHash(hash)
  if (typeof parsed === 'string') return { kind: 'bad', message: `user '${shown(username)}': ${parsed}` }
  return { kind: 'user', username, hash }
}

/** Parses a whole file's text at once (for small files and tools). */
export function parsePasswordText (text: string, file: string): PasswordTable {
  const parsing = newParsing()
  let lineNo = 0
  const body = text.startsWith(BOM) ? text.slice(1) : text
  for (let start = 0; start < body.length;) {
    const end = lineEnd(body, start)
    addLine(parsing, body.slice(start, end), ++lineNo, file)
    start = end + 1
  }
  return parsing.table
}

/** Bytes decoded at a time by parsePasswordBufferInSlices (cut at a line break). */
const CHUNK_BYTES = 256 * 1024

/**
 * Parses like parsePasswordText, but decodes and parses a bit at a time and
 * hands the event loop back every `sliceMs` milliseconds, so that loading a
 * file of 100,000 users does not stall connected clients.
 */
export async function parsePasswordBufferInSlices (data: Buffer, file: string, sliceMs = 5): Promise<PasswordTable> {
  const parsing = newParsing()
  let lineNo = 0
  let sliceStart = performance.now()
  let offset = data.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0
  while (offset < data.length) {
    const chunkEnd = chunkEndAt(data, offset)
    const text = data.toString('utf8', offset, chunkEnd)
    offset = chunkEnd
    for (let start = 0; start < text.length;) {
      const end = lineEnd(text, start)
      addLine(parsing, text.slice(start, end), ++lineNo, file)
      start = end + 1
      if ((lineNo & 127) === 0 && performance.now() - sliceStart > sliceMs) {
        await new Promise<void>(resolve => setImmediate(resolve))
        sliceStart = performance.now()
      }
    }
  }
  return parsing.table
}

/** Reads and parses a password file; file-system errors (ENOENT, EACCES…) are thrown. */
export async function readPasswordFile (file: string): Promise<PasswordTable> {
  return await parsePasswordBufferInSlices(await readFile(file), file)
}

/** Lines of a file's text; a final line break does not start another line. */
export function splitLines (text: string): string[] {
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

export function stripCr (line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}

const BOM = '\uFEFF'
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** End (exclusive) of the chunk starting at `offset`: just after a line break, about CHUNK_BYTES on. */
function chunkEndAt (data: Buffer, offset: number): number {
  if (data.length - offset <= CHUNK_BYTES) return data.length
  const lastBreak = data.lastIndexOf(0x0a, offset + CHUNK_BYTES)
  if (lastBreak >= offset) return lastBreak + 1
  const nextBreak = data.indexOf(0x0a, offset + CHUNK_BYTES)
  return nextBreak < 0 ? data.length : nextBreak + 1
}

function lineEnd (text: string, start: number): number {
  const end = text.indexOf('\n', start)
  return end < 0 ? text.length : end
}

function addLine ({ table, firstLine }: Parsing, raw: string, line: number, file: string): void {
  const result = parseLine(raw)
  if (result.kind === 'bad') table.problems.push({ file, line, message: result.message })
  if (result.kind !== 'user') return
  const first = firstLine.get(result.username)
  if (first === undefined) firstLine.set(result.username, line)
  else table.repeated.push({ file, line, message: `user ${shown(result.username)} given again (first at line ${first}); the later entry wins` })
  table.users.set(result.username, result.hash)
}
