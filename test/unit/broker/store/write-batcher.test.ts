// After a failed batch the batcher takes no more writes: records LevelDB would
// append after a partly written one could be dropped at the next start. The
// store resumes it once LevelDB writes a new log (see write-recovery.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { WriteBatcher } from '../../../../src/broker/store/write-batcher.js'

test('a failed batch is reported once; later writes are refused with its error and never reach LevelDB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmq-batcher-'))
  const db = new ClassicLevel<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    await db.open()
    const reported: Error[] = []
    const batcher = new WriteBatcher(db, err => reported.push(err))
    await batcher.write([{ type: 'put', key: 'a', value: Buffer.from('1') }])
    assert.equal(batcher.failure, undefined)
    await db.close() // the next batch fails, as on a full disk
    await assert.rejects(batcher.write([{ type: 'put', key: 'b', value: Buffer.from('2') }]))
    const failure = batcher.failure as Error | undefined
    assert.ok(failure instanceof Error)
    await db.open()
    await assert.rejects(batcher.write([{ type: 'put', key: 'c', value: Buffer.from('3') }]), err => err === failure)
    await batcher.drain()
    assert.equal(reported.length, 1)
    assert.deepEqual(await db.getMany(['a', 'b', 'c']), [Buffer.from('1'), undefined, undefined])
    batcher.resume()
    assert.equal(batcher.failure, undefined)
    await batcher.write([{ type: 'put', key: 'd', value: Buffer.from('4') }])
    assert.deepEqual(await db.get('d'), Buffer.from('4'))
    assert.equal(reported.length, 1)
  } finally {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
