// A LevelPersistence in a temporary directory, removed after the file's tests.
import { after } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLevelPersistence, type LevelPersistence } from '../../../../src/broker/store/level-persistence.js'

const dirs: string[] = []
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

export function tempStoreDir (prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

export async function openStore (path: string): Promise<LevelPersistence> {
  const store = await openLevelPersistence({ path, maxOfflineMessages: -1 })
  await store.setup({ id: 'node-a', clients: {} })
  return store
}
