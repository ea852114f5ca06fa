import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveOptions, type ListenerConfig } from '../../../../src/config/load.js'
import { TlsConfigError, TlsCredentials } from '../../../../src/broker/listeners/tls-context.js'
import { encryptKey, makePki, type Pki } from '../../../e2e/helpers/certs.js'

function sslListener (options: Record<string, string | boolean>, runtime = false): ListenerConfig {
  const resolved = resolveOptions(new Map(), 'ssl', 'default')
  for (const [k, v] of Object.entries(options)) resolved.set(k, v)
  return { type: 'ssl', name: 'default', host: '127.0.0.1', port: 0, options: resolved, runtime }
}

function failure (options: Record<string, string | boolean>, runtime = false): string {
  try {
    void new TlsCredentials(sslListener(options, runtime)).serverOptions()
  } catch (err) {
    assert.ok(err instanceof TlsConfigError, String(err))
    return err.message
  }
  assert.fail('expected a TlsConfigError')
}

describe('TLS settings of a listener', () => {
  let pki: Pki
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmq-tls-unit-'))
    pki = makePki(dir)
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('builds server options from the files', () => {
    const options = new TlsCredentials(sslListener({ certfile: pki.server.cert, keyfile: pki.server.key, cafile: pki.ca, require_certificate: true })).serverOptions()
    assert.equal(options.requestCert, true)
    assert.equal(options.rejectUnauthorized, true)
    assert.equal(options.minVersion, 'TLSv1.2')
    assert.equal((options.ca as string[]).length, 1)
  })

  it('use_identity_as_username asks for a certificate without requiring one', () => {
    const options = new TlsCredentials(sslListener({ certfile: pki.server.cert, keyfile: pki.server.key, cafile: pki.ca, use_identity_as_username: true })).serverOptions()
    assert.equal(options.requestCert, true)
    assert.equal(options.rejectUnauthorized, false)
  })

  it('names the key and the file of every problem', () => {
    assert.equal(failure({ keyfile: pki.server.key }), 'listener.ssl.default.certfile is not set: a TLS listener needs certfile and keyfile')
    assert.equal(failure({ certfile: join(dir, 'nope.pem'), keyfile: pki.server.key }), `listener.ssl.default.certfile = ${join(dir, 'nope.pem')}: no such file`)
    assert.equal(failure({ certfile: pki.server.key, keyfile: pki.server.key }), `listener.ssl.default.certfile = ${pki.server.key}: not a PEM certificate`)
    assert.equal(failure({ certfile: pki.server.cert, keyfile: pki.client.key }), `listener.ssl.default.keyfile = ${pki.client.key}: the key does not match listener.ssl.default.certfile = ${pki.server.cert}`)
    assert.equal(failure({ certfile: pki.server.cert, keyfile: pki.server.key, require_certificate: true }), 'listener.ssl.default.cafile is not set: require_certificate = on needs the CA that signs client certificates')
    const junk = join(dir, 'junk.pem')
    writeFileSync(junk, 'hello\n')
    assert.equal(failure({ certfile: pki.server.cert, keyfile: pki.server.key, cafile: junk }), `listener.ssl.default.cafile = ${junk}: no PEM certificate in the file`)
    assert.equal(failure({ certfile: pki.server.cert, keyfile: pki.server.key, crlfile: junk }), `listener.ssl.default.crlfile = ${junk}: not a PEM certificate revocation list`)
    assert.equal(failure({ certfile: pki.server.cert, keyfile: pki.server.key, ciphers: 'NOT-A-CIPHER' }), 'listener.ssl.default.ciphers = NOT-A-CIPHER: no cipher matches')
    assert.equal(failure({ certfile: pki.server.cert, keyfile: pki.server.key, eccs: 'bogus' }), 'listener.ssl.default.eccs = bogus: unknown elliptic curve')
  })

  it('checks the key passphrase', () => {
    const encrypted = encryptKey(dir, pki.server.key, 'secret')
    assert.equal(failure({ certfile: pki.server.cert, keyfile: encrypted }), `listener.ssl.default.keyfile = ${encrypted}: the key is encrypted and keypasswd is not set`)
    assert.equal(failure({ certfile: pki.server.cert, keyfile: encrypted, keypasswd: 'wrong' }), `listener.ssl.default.keyfile = ${encrypted}: cannot decrypt the key: wrong keypasswd`)
    const options = new TlsCredentials(sslListener({ certfile: pki.server.cert, keyfile: encrypted, keypasswd: 'secret' })).serverOptions()
    assert.equal(options.passphrase, 'secret')
  })

  it('names flags for listeners started with listener start', () => {
    assert.equal(failure({ certfile: join(dir, 'nope.pem'), keyfile: pki.server.key }, true), `--certfile = ${join(dir, 'nope.pem')}: no such file`)
  })
})
