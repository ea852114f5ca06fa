// aedes-persistence's own test suite (the contract every aedes persistence
// must meet), run against the LevelDB store, each test on a fresh data dir.
import { test, after } from 'node:test'
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLevelPersistence } from '../../../../src/broker/store/level-persistence.js'

const require = createRequire(import.meta.url)
const abstractPersistence = require('aedes-persistence/abstract.js') as (opts: object) => void

const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

abstractPersistence({
  test,
  testAsync: true,
  persistence: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmq-store-contract-'))
    dirs.push(dir)
    return await openLevelPersistence({ path: dir })
  }
})
