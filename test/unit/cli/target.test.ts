import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveTarget } from '../../../src/cli/target.js'
import { CliError } from '../../../src/cli/errors.js'
import { makeCert } from '../../e2e/helpers/certs.js'

function refusal (fn: () => unknown): { message: string, exitCode: number } {
  try {
    fn()
  } catch (err) {
    if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode }
    throw err
  }
  assert.fail('expected a CliError')
}

describe('resolveTarget: TLS to a vmqs node', () => {
  let dir: string
  let ca: { cert: string, key: string }
  let member: { cert: string, key: string }
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmq-target-'))
    ca = makeCert(dir, 'ca', 'Test CA', 'ca')
    member = makeCert(dir, 'member', 'node', 'member', ca)
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('plain without TLS flags, variables or a vmqs config', () => {
    assert.equal(resolveTarget({ node: '127.0.0.1:1' }, {}).tls, undefined)
  })

  it('--secure alone: TLS trusting the system CAs', () => {
    assert.deepEqual(resolveTarget({ secure: true }, {}).tls, {})
  })

  it('files from the flags, else from VMQ_TLS_*', () => {
    const fromFlags = resolveTarget({ 'tls-cafile': ca.cert, 'tls-certfile': member.cert, 'tls-keyfile': member.key }, { VMQ_TLS_CAFILE: member.cert })
    assert.deepEqual(fromFlags.tls, { ca: readFileSync(ca.cert), cert: readFileSync(member.cert), key: readFileSync(member.key) })
    const fromEnv = resolveTarget({}, { VMQ_TLS_CAFILE: ca.cert })
    assert.deepEqual(fromEnv.tls, { ca: readFileSync(ca.cert) })
  })

  it('a missing file or a certificate without its key: exit 1, one line', () => {
    assert.deepEqual(refusal(() => resolveTarget({ 'tls-cafile': join(dir, 'none.pem') }, {})), { message: `--tls-cafile = ${join(dir, 'none.pem')}: no such file`, exitCode: 1 })
    assert.deepEqual(refusal(() => resolveTarget({}, { VMQ_TLS_CAFILE: join(dir, 'none.pem') })), { message: `VMQ_TLS_CAFILE = ${join(dir, 'none.pem')}: no such file`, exitCode: 1 })
    assert.equal(refusal(() => resolveTarget({ 'tls-certfile': member.cert }, {})).message, '--tls-certfile and --tls-keyfile go together: a client certificate needs its key')
  })

  it('-c with a vmqs cluster listener: its address, cookie and files', () => {
    const conf = join(dir, 'vernemq.conf')
    writeFileSync(conf, [
      'listener.vmq.clustering = off',
      'listener.vmqs.clustering = 127.0.0.1:44099',
      `listener.vmqs.cafile = ${ca.cert}`,
      `listener.vmqs.clustering.certfile = ${member.cert}`,
      `listener.vmqs.clustering.keyfile = ${member.key}`,
      'distributed_cookie = secret'
    ].join('\n') + '\n')
    const target = resolveTarget({ config: conf }, {})
    assert.equal(target.address, '127.0.0.1:44099')
    assert.equal(target.cookie, 'secret')
    assert.equal(String(target.tls?.ca).trim(), readFileSync(ca.cert, 'utf8').trim())
    assert.deepEqual(target.tls?.cert, readFileSync(member.cert))
    // the key as gRPC takes it: PKCS#8, unencrypted
    assert.match(String(target.tls?.key), /^-----BEGIN PRIVATE KEY-----/)
    // a flag replaces one file of the config
    assert.deepEqual(resolveTarget({ config: conf, 'tls-cafile': member.cert }, {}).tls?.ca, readFileSync(member.cert))
  })

  it('-c with a vmqs listener whose files are broken: exit 1 naming the key', () => {
    const conf = join(dir, 'broken.conf')
    writeFileSync(conf, `listener.vmqs.clustering = 127.0.0.1:44099\nlistener.vmqs.certfile = ${join(dir, 'none.pem')}\nlistener.vmqs.keyfile = ${member.key}\n`)
    assert.deepEqual(refusal(() => resolveTarget({ config: conf }, {})), { message: `listener.vmqs.clustering.certfile = ${join(dir, 'none.pem')}: no such file`, exitCode: 1 })
  })
})
