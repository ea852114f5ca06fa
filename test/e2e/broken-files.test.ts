// Broken operator files through the real CLI: generated broken vernemq.conf
// files stop `vmq start` with one `file:line: ` line per problem; broken
// password and ACL files are reported as `file:line: ` lines in the log, and a
// broken file at reload keeps the rules loaded from the last good one.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'
import { parsePasswordText } from '../../src/passwd/file.js'
import { parseAcl } from '../../src/broker/auth/acl-file.js'
import { brokenAclFiles, brokenConfigs, brokenPasswordFiles, type BrokenFile } from '../helpers/broken-files.js'
import { connackCode, connect, endAll, grantedQos } from './helpers/mqtt.js'
import { run, startNode, tempDir, VMQ, vmq, waitFor } from './helpers/processes.js'

const SEED = 20261203
const SAMPLE = 30

function escapeRe (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function refusedByParser (file: string, data: Buffer): boolean {
  writeFileSync(file, data)
  try {
    loadConfig({ file })
    return false
  } catch {
    return true
  }
}

/** The first `n` generated files the parser finds problems in, each ending with one more bad line `marker`. */
function sampleWithProblems (files: BrokenFile[], n: number, hasProblems: (data: Buffer) => boolean): Buffer[] {
  return files.filter(f => hasProblems(f.data)).slice(0, n).map(f => f.data)
}

describe('broken vernemq.conf', () => {
  it(`${SAMPLE} generated broken files: vmq start exits 1 with one file:line line per problem and no stack trace`, async () => {
    const dir = tempDir()
    try {
      const file = join(dir, 'vernemq.conf')
      const sample = brokenConfigs(SEED).filter(f => refusedByParser(file, f.data)).slice(0, SAMPLE)
      assert.equal(sample.length, SAMPLE)
      for (const { name, data } of sample) {
        writeFileSync(file, data)
        const r = await run(process.execPath, [VMQ, 'start', '-c', file], { cwd: dir })
        assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`)
        const lines = r.stderr.trimEnd().split('\n')
        assert.equal(lines[0], 'Error: invalid configuration:', name)
        for (const line of lines.slice(1)) assert.match(line, new RegExp(`^${escapeRe(file)}(:\\d+)?: \\S`), name)
        assert.doesNotMatch(r.stderr, /^\s+at /m, `${name}: stack trace`)
        assert.doesNotMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, `${name}: control character`)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('broken password and ACL files', () => {
  it(`start with broken files, then ${SAMPLE} broken files at reload: file:line in the log, the last good rules stay, a fixed file applies`, async () => {
    const dir = tempDir()
    const passwd = join(dir, 'vmq.passwd')
    const acl = join(dir, 'vmq.acl')
    const badPasswd = sampleWithProblems(brokenPasswordFiles(SEED), SAMPLE + 1, d => parsePasswordText(d.toString(), passwd).problems.length > 0)
    const badAcl = sampleWithProblems(brokenAclFiles(SEED), SAMPLE + 1, d => parseAcl(d, acl).problems.length > 0)
    writeFileSync(passwd, badPasswd[0])
    writeFileSync(acl, badAcl[0])
    const node = await startNode({
      conf: [`vmq_passwd.password_file = ${passwd}`, `vmq_acl.acl_file = ${acl}`, 'vmq_passwd.password_reload_interval = 1', 'vmq_acl.acl_reload_interval = 1']
    })
    try {
      // at start the good lines load and each bad one is a line of the log
      assert.match(node.stdout, new RegExp(`\\[warning\\] vmq_passwd: ${escapeRe(passwd)}:\\d+: .* \\(line skipped\\)`))
      assert.match(node.stdout, new RegExp(`\\[warning\\] ${escapeRe(acl)}:\\d+: .* \\(line skipped\\)`))

      await setUser(passwd, 'john', 'secret', true)
      writeFileSync(acl, 'user john\ntopic read foo\n')
      await waitFor(async () => await connackCode(node.mqttUrl, { username: 'john', password: 'secret' }) === 0, 5000, 'the good password file')
      await waitFor(() => node.stdout.includes(`loaded ACL file ${acl}: 1 rules`), 5000, 'the good ACL file')

      for (let i = 1; i <= SAMPLE; i++) {
        // a last bad line of its own, so that each file gets its own log lines
        writeFileSync(passwd, Buffer.concat([badPasswd[i], Buffer.from(`\nbroken-${i}:plain\n`)]))
        writeFileSync(acl, Buffer.concat([badAcl[i], Buffer.from(`\nbroken-${i}\n`)]))
        await waitFor(() => new RegExp(`vmq_passwd: ${escapeRe(passwd)}:\\d+: user 'broken-${i}': password is not hashed`).test(node.stdout), 5000, `password file ${i} reported`)
        await waitFor(() => node.stdout.includes(`${acl}:`) && node.stdout.includes(`unknown keyword 'broken-${i}'`), 5000, `ACL file ${i} reported`)
      }
      await waitFor(() => (node.stdout.match(/vmq_passwd: \S+ has \d+ lines? bad; keeping the 1 user loaded before until it is fixed/g) ?? []).length === SAMPLE, 5000, 'every password file kept back')
      await waitFor(() => (node.stdout.match(/keeping the 1 rules loaded before until it is fixed/g) ?? []).length === SAMPLE, 5000, 'every ACL file kept back')
      assert.doesNotMatch(node.stdout + node.stderr, /^\s+at /m, 'no stack trace')

      // the last good rules: john's password, read on foo and nothing else
      assert.equal(await connackCode(node.mqttUrl, { username: 'john', password: 'secret' }), 0)
      const john = await connect(node.mqttUrl, { username: 'john', password: 'secret' })
      assert.equal(await grantedQos(john, 'foo'), 0)
      assert.equal(await grantedQos(john, 'bar'), 0x80)
      await endAll(john)

      // fixed files apply
      await setUser(passwd, 'john', 'newpw', true)
      writeFileSync(acl, 'user john\ntopic read foo\ntopic read bar\n')
      await waitFor(async () => await connackCode(node.mqttUrl, { username: 'john', password: 'newpw' }) === 0, 5000, 'the fixed password file')
      await waitFor(() => node.stdout.includes(`loaded ACL file ${acl}: 2 rules`), 5000, 'the fixed ACL file')
      const again = await connect(node.mqttUrl, { username: 'john', password: 'newpw' })
      assert.equal(await grantedQos(again, 'bar'), 0)
      await endAll(again)
    } finally {
      await node.stop()
      node.cleanup()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

async function setUser (file: string, user: string, password: string, create: boolean): Promise<void> {
  const r = await vmq(['passwd', ...(create ? ['-cf'] : []), file, user], { input: `${password}\n${password}\n` })
  assert.equal(r.code, 0, r.stderr)
}
