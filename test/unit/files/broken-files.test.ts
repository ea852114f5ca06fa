// 1,000 generated broken files of each kind through the real parsers: each is
// accepted or refused with one line per problem, `file:line: ...` (or the file
// name alone for a whole-file problem); nothing is thrown but ConfigError.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/config/parse.js'
import { parsePasswordBufferInSlices } from '../../../src/passwd/file.js'
import { parseAcl } from '../../../src/broker/auth/acl-file.js'
import { formatProblem } from '../../../src/broker/auth/types.js'
import { brokenAclFiles, brokenConfigs, brokenPasswordFiles, VALID } from '../../helpers/broken-files.js'

const SEED = 20261203
const ONE_LINE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/

function escapeRe (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function checkLines (lines: string[], file: string, what: string): void {
  const where = new RegExp(`^${escapeRe(file)}(:[1-9]\\d*)?: \\S`)
  for (const line of lines) {
    assert.match(line, where, `${what}: ${JSON.stringify(line.slice(0, 200))}`)
    assert.match(line, ONE_LINE, `${what}: control character in ${JSON.stringify(line.slice(0, 200))}`)
    assert.ok(line.length <= 400, `${what}: a line of ${line.length} characters: ${JSON.stringify(line.slice(0, 200))}`)
  }
}

describe('1,000 broken files of each kind', () => {
  test('the generator is deterministic and its base files are valid', async () => {
    assert.deepEqual(brokenConfigs(SEED, 5), brokenConfigs(SEED, 5))
    const dir = mkdtempSync(join(tmpdir(), 'vmq-broken-'))
    try {
      writeFileSync(join(dir, 'vernemq.conf'), VALID.conf)
      loadConfig({ file: join(dir, 'vernemq.conf') })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const table = await parsePasswordBufferInSlices(Buffer.from(VALID.passwd), 'vmq.passwd')
    assert.deepEqual(table.problems, [])
    assert.equal(table.users.size, 3)
    assert.deepEqual(parseAcl(Buffer.from(VALID.acl), 'vmq.acl').problems, [])
  })

  test('vernemq.conf: accepted, or ConfigError with one `file:line: ` line per problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmq-broken-'))
    let refused = 0
    try {
      const file = join(dir, 'vernemq.conf')
      for (const { name, data } of brokenConfigs(SEED)) {
        writeFileSync(file, data)
        try {
          loadConfig({ file })
        } catch (err) {
          assert.ok(err instanceof ConfigError, `${name}: threw ${String(err)}`)
          checkLines(err.message.split('\n'), file, name)
          assert.equal(err.message.split('\n').length, err.problems.length, `${name}: a problem spans lines`)
          refused++
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    assert.ok(refused > 700, `only ${refused} of 1000 refused`)
  })

  test('password files: every bad line is one `file:line: ` problem', async () => {
    let withProblems = 0
    for (const { name, data } of brokenPasswordFiles(SEED)) {
      const table = await parsePasswordBufferInSlices(data, '/etc/vmq.passwd')
      const lines = [...table.problems, ...table.repeated].map(formatProblem)
      checkLines(lines, '/etc/vmq.passwd', name)
      for (const p of table.problems) assert.ok(p.line >= 1, name)
      if (table.problems.length > 0) withProblems++
    }
    assert.ok(withProblems > 600, `only ${withProblems} of 1000 with problems`)
  })

  test('ACL files: every bad line is one `file:line: ` problem', () => {
    let withProblems = 0
    for (const { name, data } of brokenAclFiles(SEED)) {
      const acl = parseAcl(data, '/etc/vmq.acl')
      checkLines(acl.problems.map(formatProblem), '/etc/vmq.acl', name)
      if (acl.problems.length > 0) withProblems++
    }
    assert.ok(withProblems > 600, `only ${withProblems} of 1000 with problems`)
  })
})
