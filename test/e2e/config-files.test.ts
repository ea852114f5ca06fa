import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OPEN_ACCESS, startWithConfig, tempDir, vmq } from './helpers/processes.js'

describe('config files vmq start refuses', () => {
  it('vmq start -c /dev/zero stops at once with one line instead of reading forever', async () => {
    const r = await vmq(['start', '-c', '/dev/zero'])
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), 'Error: invalid configuration:\n/dev/zero: cannot read config file: not a regular file')
  })

  it('an empty distributed_cookie stops the start with file:line', async () => {
    const file = join(tempDir(), 'vernemq.conf')
    writeFileSync(file, 'allow_anonymous = on\ndistributed_cookie =\n')
    const r = await vmq(['start', '-c', file])
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), `Error: invalid configuration:\n${file}:2: distributed_cookie: must not be empty: every admin and cluster call is checked against it`)
  })

  it('a key given twice stops the start naming both lines', async () => {
    const file = join(tempDir(), 'vernemq.conf')
    writeFileSync(file, 'allow_anonymous = on\nlistener.tcp.default = 127.0.0.1:1\nallow_anonymous = off\n')
    const r = await vmq(['start', '-c', file])
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), `Error: invalid configuration:\n${file}:3: allow_anonymous: given twice (first at line 1)`)
  })
})

describe('where a node started with -c keeps its files', () => {
  it('data and logs go next to the config file, not into the current directory', async () => {
    const confDir = tempDir()
    const cwd = tempDir()
    const file = join(confDir, 'vernemq.conf')
    writeFileSync(file, [...OPEN_ACCESS, 'listener.tcp.default = 127.0.0.1:0', 'listener.vmq.clustering = 127.0.0.1:0'].join('\n') + '\n')
    const node = await startWithConfig({ dir: confDir, confFile: file, nodename: 'VerneMQ@127.0.0.1', cwd })
    try {
      const shown = await node.admin(['show', 'persistent_dir', 'log.error.file', '--format=json'])
      assert.deepEqual(JSON.parse(shown.stdout).table[0], { node: 'VerneMQ@127.0.0.1', persistent_dir: join(confDir, 'data'), 'log.error.file': join(confDir, 'log', 'error.log') })
      assert.ok(existsSync(join(confDir, 'log', 'error.log')))
      assert.deepEqual(readdirSync(cwd), [])
    } finally {
      await node.stop()
      node.cleanup()
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})
