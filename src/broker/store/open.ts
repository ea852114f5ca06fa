// The durable store of one mountpoint, under persistent_dir/store/.
import { join } from 'node:path'
import type { Logger } from '../log.js'
import { openLevelPersistence, type LevelPersistence } from './level-persistence.js'

export function storePath (persistentDir: string, mountpoint: string): string {
  return join(persistentDir, 'store', mountpoint === '' ? 'default' : 'mp-' + encodeURIComponent(mountpoint))
}

export async function openStore (persistentDir: string, mountpoint: string, maxOfflineMessages: number, log: Logger): Promise<LevelPersistence> {
  return await openLevelPersistence({
    path: storePath(persistentDir, mountpoint),
    maxOfflineMessages,
    log: (level, msg) => { log[level]({ mountpoint }, msg) }
  })
}
