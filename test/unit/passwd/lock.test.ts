import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LockTimeoutError, lockFileFor, withFileLock } from '../../../src/passwd/lock.js'

async function inTempDir (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmq-passwd-lock-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('the lock is held during the callback and removed afterwards, even on error', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await withFileLock(file, async () => {
      assert.deepEqual(await readdir(dir), ['p.lock'])
    })
    assert.deepEqual(await readdir(dir), [])
    await assert.rejects(withFileLock(file, async () => { throw new Error('boom') }), /boom/)
    assert.deepEqual(await readdir(dir), [])
  })
})

test('callbacks under the same lock never overlap', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    let inside = 0
    let maxInside = 0
    await Promise.all(Array.from({ length: 10 }, async () => await withFileLock(file, async () => {
      inside++
      maxInside = Math.max(maxInside, inside)
      await new Promise(resolve => setImmediate(resolve))
      inside--
    })))
    assert.equal(maxInside, 1)
  })
})

test('a fresh lock held by someone else makes us give up with a clear error', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await writeFile(lockFileFor(file), '1\n')
    await assert.rejects(withFileLock(file, async () => {}, { timeoutMs: 200 }), (err: Error) => {
      assert.ok(err instanceof LockTimeoutError)
      assert.match(err.message, /locked by another process \(lock file .*p\.lock\)/)
      return true
    })
  })
})

test('a stale lock (older than staleMs) is broken', async () => {
  await inTempDir(async dir => {
    const file = join(dir, 'p')
    await writeFile(lockFileFor(file), '1\n')
    const old = new Date(Date.now() - 60_000)
    await utimes(lockFileFor(file), old, old)
    let ran = false
    await withFileLock(file, async () => { ran = true }, { timeoutMs: 2000, staleMs: 30_000 })
    assert.equal(ran, true)
    assert.deepEqual(await readdir(dir), [])
  })
})
