// The vmq_acl file: VerneMQ's line grammar, read tolerantly.
//
//   # comment
//   topic [read|write] <filter>      rule of the current section
//   user <name>                      the following `topic` lines are this user's
//   pattern [read|write] <filter>    rule for everyone, with %u %c %m substituted
//
// Lines before the first `user` line form the "all" section. Without `read` or
// `write` a rule grants both. The filter is the rest of the line, trimmed of
// spaces and tabs; inner spaces belong to it (`topic a b/c` is the level `a b`).
//
// Where we differ from VerneMQ, on purpose: blank and whitespace-only lines,
// CRLF line ends, a UTF-8 BOM and indentation are ignored; keywords may be
// separated by any run of spaces or tabs, so `topic  read a` grants read on `a`
// (VerneMQ would grant read and write on the topic `read a`). A line we cannot
// use is reported as `file:line: reason` and skipped; every other line still
// counts (VerneMQ's loader crashes on it). `topic readwrite x` and `topic deny x`
// (mosquitto syntax) are refused rather than read as a filter named
// `readwrite x`, and `topic read` with no filter is refused rather than read as
// the topic `read`. After a broken `user` line (`user` alone, `users john`) the
// `topic` lines up to the next `user` line are dropped, so a typo cannot hand
// one user's rules to the section above it (possibly everyone's).

import type { FileProblem } from './types.js'
import { validateFilter } from './topic.js'
import { shown } from '../../config/shown.js'

/** Filters as level arrays, ready for aclMatch. */
export interface Rules {
  read: string[][]
  write: string[][]
}

export interface AclRules {
  all: Rules
  users: Map<string, Rules>
  patterns: Rules
  problems: FileProblem[]
}

export interface ParseOptions {
  /** topic_max_depth; filters with more levels are refused */
  maxDepth?: number
}

type Access = 'read' | 'write' | 'both'

const DROPPED = "the topic rules up to the next 'user' line are ignored"

export function emptyRules (): Rules {
  return { read: [], write: [] }
}

/** Parses the whole file. `file` only names it in problems. */
export function parseAcl (content: string | Buffer, file: string, options: ParseOptions = {}): AclRules {
  const result: AclRules = { all: emptyRules(), users: new Map(), patterns: emptyRules(), problems: [] }
  const seen = new Set<string>()
  // undefined after a broken `user` line: its rules must not land in the
  // section before it (that could be the "all" section), so they are dropped.
  let section: Rules | undefined = result.all
  let sectionName = ''
  const lines = splitLines(content)
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1
    const problem = (message: string): void => { result.problems.push({ file, line: lineNo, message }) }
    const raw = lines[i]
    if (raw === undefined) {
      problem('line is not valid UTF-8')
      continue
    }
    const line = (i === 0 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '').replace(/^[ \t]+/, '')
    if (line.trim().length === 0 || line.startsWith('#')) continue
    const { word, rest } = firstWord(line)
    if (word === 'user') {
      const name = trimBlanks(rest)
      if (name.length === 0) {
        problem(`'user' needs a user name; ${DROPPED}`)
        section = undefined
        continue
      }
      sectionName = name
      section = result.users.get(name) ?? emptyRules()
      result.users.set(name, section)
      continue
    }
    if (word !== 'topic' && word !== 'pattern') {
      if (/^user/i.test(word)) {
        problem(`unknown keyword '${shown(word)}' (did you mean 'user'?); ${DROPPED}`)
        section = undefined
      } else {
        problem(`unknown keyword '${shown(word)}' (expected topic, user, pattern or a # comment)`)
      }
      continue
    }
    const rule = accessAndFilter(rest)
    if ('error' in rule) {
      problem(`${word}: ${rule.error}`)
      continue
    }
    const checked = validateFilter(rule.filter, options.maxDepth)
    if (!checked.ok) {
      problem(`invalid topic filter: ${checked.reason.split(rule.filter).join(shown(rule.filter))}`)
      continue
    }
    const target = word === 'pattern' ? result.patterns : section
    if (target === undefined) continue
    const scope = word === 'pattern' ? 'pattern' : `user:${sectionName}`
    addRule(target, rule.access, checked.levels, `${scope}\u0000${rule.filter}`, seen)
  }
  return result
}

/** Lines split on LF; a line that is not valid UTF-8 comes back undefined. */
function splitLines (content: string | Buffer): Array<string | undefined> {
  if (typeof content === 'string') return content.split('\n')
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const lines: Array<string | undefined> = []
  let start = 0
  while (start <= content.length) {
    let end = content.indexOf(0x0a, start)
    if (end === -1) end = content.length
    try {
      lines.push(decoder.decode(content.subarray(start, end)))
    } catch {
      lines.push(undefined)
    }
    start = end + 1
  }
  return lines
}

function firstWord (line: string): { word: string, rest: string } {
  const m = /^([^ \t]*)(?:[ \t]+(.*))?$/s.exec(line)
  return { word: m?.[1] ?? line, rest: m?.[2] ?? '' }
}

function trimBlanks (s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '')
}

const UNSUPPORTED_ACCESS = new Map([
  ['readwrite', "'readwrite' is not a vmq_acl access; leave it out to grant read and write"],
  ['deny', "'deny' is not supported: vmq_acl rules only grant access"]
])

function accessAndFilter (rest: string): { access: Access, filter: string } | { error: string } {
  const { word, rest: after } = firstWord(rest)
  const filterAfter = trimBlanks(after)
  if (word === 'read' || word === 'write') {
    if (filterAfter.length === 0) return { error: `'${word}' needs a topic filter after it` }
    return { access: word, filter: filterAfter }
  }
  const unsupported = UNSUPPORTED_ACCESS.get(word)
  if (unsupported !== undefined && filterAfter.length > 0) return { error: unsupported }
  const filter = trimBlanks(rest)
  if (filter.length === 0) return { error: 'a topic filter is missing' }
  return { access: 'both', filter }
}

function addRule (rules: Rules, access: Access, levels: string[], key: string, seen: Set<string>): void {
  if (access !== 'write' && !seen.has(`r${key}`)) {
    seen.add(`r${key}`)
    rules.read.push(levels)
  }
  if (access !== 'read' && !seen.has(`w${key}`)) {
    seen.add(`w${key}`)
    rules.write.push(levels)
  }
}

/** Number of rules, for a log line. */
export function ruleCount (acl: AclRules): number {
  let n = acl.all.read.length + acl.all.write.length + acl.patterns.read.length + acl.patterns.write.length
  for (const r of acl.users.values()) n += r.read.length + r.write.length
  return n
}
