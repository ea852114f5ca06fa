import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clusterListener, loadConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/config/parse.js'

function confFile (lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vmq-conf-')), 'vernemq.conf')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

test('the cluster listener is the vmq or the vmqs one, with the vmqs options inherited per type and globally', () => {
  const config = loadConfig({ file: confFile(['listener.vmqs.clustering = 127.0.0.1:44060', 'listener.vmqs.certfile = /c.pem', 'listener.cafile = /ca.pem']) })
  const listener = clusterListener(config.listeners)
  assert.equal(`${listener?.type}.${listener?.name}`, 'vmqs.clustering')
  assert.equal(listener?.options.get('certfile'), '/c.pem')
  assert.equal(listener?.options.get('cafile'), '/ca.pem')
  assert.equal(clusterListener(loadConfig({ file: confFile(['listener.tcp.default = 127.0.0.1:1883']) }).listeners)?.type, 'vmq')
})

test('vmq and vmqs together are refused: a node has one cluster listener', () => {
  const file = confFile(['listener.vmq.clustering = 127.0.0.1:44053', 'listener.vmqs.secure = 127.0.0.1:44054'])
  assert.throws(() => loadConfig({ file }), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.equal(err.message, `${file}: listener.vmq.clustering and listener.vmqs.secure are both configured: a node has one cluster listener, plain (vmq) or TLS (vmqs); set the other to off`)
    return true
  })
  // off removes the plain one
  const ok = loadConfig({ file: confFile(['listener.vmq.clustering = off', 'listener.vmqs.secure = 127.0.0.1:44054']) })
  assert.equal(clusterListener(ok.listeners)?.type, 'vmqs')
})
