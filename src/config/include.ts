// `include <dir>/<glob>` in vernemq.conf (cuttlefish): the files matching the
// glob, relative to the including file's directory, in name order. As in
// cuttlefish, only the last part of the path may have wildcards (* and ?), and
// a directory that does not exist matches nothing.
import { readdirSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** Paths (joined onto the including file's directory as written) of the files an include names. */
export function includedFiles (includingFile: string, pattern: string): string[] {
  const dir = join(dirname(includingFile), dirname(pattern))
  const matcher = globRegExp(basename(pattern))
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.filter(name => matcher.test(name)).sort().map(name => join(dir, name)).filter(isFile)
}

function globRegExp (glob: string): RegExp {
  const body = [...glob].map(c => c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')).join('')
  // like a shell glob, a wildcard does not match a leading dot
  return new RegExp(`^(?!\\.)${body}$`)
}

function isFile (path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
