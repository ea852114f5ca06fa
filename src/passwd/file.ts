// Reading password files tolerantly: blank lines and `#` comments are skipped,
// CRLF is accepted, and a bad line is reported as `file:line: reason` and skipped
// while every good line still loads. One line per user: `username:<hash>`.
import { readFile } from 'node:fs/promises'
import type { FileProblem } from '../broker/auth/types.js'
import { parseHash, type ParsedHash } from './hash.js'

export interface PasswordTable {
  /** username → stored hash; when a user appears twice the later line wins */
  users: Map<string, ParsedHash>
  problems: FileProblem[]
}

export type LineResult =
  | { kind: 'skip' }
  | { kind: 'user', username: string, hash: ParsedHash }
  | { kind: 'bad', message: string }

/** Classifies one line (without its line break; a trailing CR is ignored). */
export function parseLine (raw: string): LineResult {
  const line = stripCr(raw)
  if (line.trim() === '' || line.trimStart().startsWith('#')) return { kind: 'skip' }
  const colon = line.indexOf(':')
  if (colon < 0) return { kind: 'bad', message: "no ':' between username and password hash" }
  if (colon === 0) return { kind: 'bad', message: 'empty username' }
  const username = line.slice(0, colon)
  const rest = line.slice(colon + 1).trimEnd()
  if (rest.includes(':')) return { kind: 'bad', message: `more than one ':' (usernames may not contain ':')` }
  const hash = parseHash(rest)
  if (typeof hash === 'string') return { kind: 'bad', message: `user '${username}': ${hash}` }
  return { kind: 'user', username, hash }
}

/** Parses a whole file's text at once (for small files and tools). */
export function parsePasswordText (text: string, file: string): PasswordTable {
  const table: PasswordTable = { users: new Map(), problems: [] }
  const lines = splitLines(text)
  for (let i = 0; i < lines.length; i++) addLine(table, lines[i], i + 1, file)
  return table
}

/**
 * Parses like parsePasswordText but hands the event loop back every `sliceMs`
 * milliseconds, so a file with 100,000 users does not stall connected clients.
 */
export async function parsePasswordTextInSlices (text: string, file: string, sliceMs = 10): Promise<PasswordTable> {
  const table: PasswordTable = { users: new Map(), problems: [] }
  const lines = splitLines(text)
  let sliceStart = performance.now()
  for (let i = 0; i < lines.length; i++) {
    addLine(table, lines[i], i + 1, file)
    if ((i & 255) === 255 && performance.now() - sliceStart > sliceMs) {
      await new Promise<void>(resolve => setImmediate(resolve))
      sliceStart = performance.now()
    }
  }
  return table
}

/** Reads and parses a password file; file-system errors (ENOENT, EACCES…) are thrown. */
export async function readPasswordFile (file: string): Promise<PasswordTable> {
  return await parsePasswordTextInSlices(await readFile(file, 'utf8'), file)
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

function addLine (table: PasswordTable, raw: string, line: number, file: string): void {
  const result = parseLine(raw)
  if (result.kind === 'user') table.users.set(result.username, result.hash)
  else if (result.kind === 'bad') table.problems.push({ file, line, message: result.message })
}
