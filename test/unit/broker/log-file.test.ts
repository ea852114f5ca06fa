import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { LogFile } from '../../../src/broker/log-file.js'

function dir (): string {
  return mkdtempSync(join(tmpdir(), 'vmq-logfile-'))
}

const line = (n: number): string => `line ${String(n).padStart(3, '0')} ${'x'.repeat(40)}\n` // 50 bytes

test('past rotation.size the file becomes .0, older ones move up, at most `keep` are kept', () => {
  const d = dir()
  const path = join(d, 'console.log')
  const file = new LogFile(path, { size: 120, keep: 2, compress: false })
  for (let n = 1; n <= 9; n++) file.write(line(n))
  // 2 lines per file: 9 lines = 4 full rotations
  assert.equal(readFileSync(path, 'utf8'), line(9))
  assert.equal(readFileSync(`${path}.0`, 'utf8'), line(7) + line(8))
  assert.equal(readFileSync(`${path}.1`, 'utf8'), line(5) + line(6))
  assert.equal(existsSync(`${path}.2`), false)
  rmSync(d, { recursive: true, force: true })
})

test('compress_on_rotate gzips the rotated file; keep 0 empties the file instead', () => {
  const d = dir()
  const zipped = new LogFile(join(d, 'a.log'), { size: 60, keep: 3, compress: true })
  for (let n = 1; n <= 3; n++) zipped.write(line(n))
  assert.equal(gunzipSync(readFileSync(join(d, 'a.log.0.gz'))).toString(), line(2))
  assert.equal(gunzipSync(readFileSync(join(d, 'a.log.1.gz'))).toString(), line(1))
  assert.equal(existsSync(join(d, 'a.log.0')), false)
  const none = new LogFile(join(d, 'b.log'), { size: 60, keep: 0, compress: false })
  for (let n = 1; n <= 3; n++) none.write(line(n))
  assert.equal(readFileSync(join(d, 'b.log'), 'utf8'), line(3))
  assert.equal(existsSync(join(d, 'b.log.0')), false)
  rmSync(d, { recursive: true, force: true })
})

test('reopen writes to the path again after the file was moved away (logrotate)', () => {
  const d = dir()
  const path = join(d, 'console.log')
  const file = new LogFile(path, { size: Infinity, keep: 5, compress: false })
  file.write(line(1))
  renameSync(path, `${path}.moved`)
  file.write(line(2))
  file.reopen()
  file.write(line(3))
  assert.equal(readFileSync(`${path}.moved`, 'utf8'), line(1) + line(2))
  assert.equal(readFileSync(path, 'utf8'), line(3))
  rmSync(d, { recursive: true, force: true })
})
