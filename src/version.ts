// Where the vmq-ts package this process runs from is, and its version: the
// nearest package.json above this file whose name is vmq-ts (the compiled tree
// and the CLI bundle sit at different depths below it).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let found: { root: string, version: string } | undefined

/** The package's directory (static/ and proto/ are there). */
export function packageRoot (): string {
  found ??= findPackage()
  return found.root
}

export function packageVersion (): string {
  found ??= findPackage()
  return found.version
}

function findPackage (): { root: string, version: string } {
  const start = dirname(fileURLToPath(import.meta.url))
  let dir = start
  for (let i = 0; i < 8; i++) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'vmq-ts' && typeof pkg.version === 'string') return { root: dir, version: pkg.version }
    }
    dir = dirname(dir)
  }
  throw new Error(`no package.json of vmq-ts above ${start}`)
}
