// Listeners on port 0: the node reports the ports the kernel gave them on
// stdout, in its log, in listener show and in vmq start --ports-file.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OPEN_ACCESS, startNode, tempDir, vmq } from './helpers/processes.js'

describe('vmq start --ports-file', () => {
  it('lists every listener with its bound port once the node is ready, as stdout, the log and listener show do; removed at a clean stop', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    try {
      const file = JSON.parse(readFileSync(node.portsFile, 'utf8')) as { node: string, pid: number, listeners: Array<{ kind: string, name: string, address: string, host: string, port: number }> }
      assert.equal(file.node, node.nodename)
      assert.equal(file.pid, node.proc.pid)
      const byName = Object.fromEntries(file.listeners.map(l => [l.name, l]))
      assert.deepEqual(Object.keys(byName).sort(), ['http.default', 'tcp.default', 'vmq.clustering', 'ws.default'])
      for (const l of file.listeners) {
        assert.ok(l.port > 0, `${l.name} got a port`)
        assert.equal(l.host, '127.0.0.1')
        assert.equal(l.address, `127.0.0.1:${l.port}`)
        assert.ok(node.stdout.includes(`listener ${l.kind} ${l.name} on 127.0.0.1:${l.port}\n`), node.stdout)
      }
      assert.deepEqual(file.listeners.map(l => l.kind).sort(), ['http', 'mqtt', 'mqttws', 'vmq'])
      const started = node.stdout.split('\n').find(l => l.includes('[info] node started'))
      assert.ok(started?.endsWith(` listeners=${file.listeners.map(l => `${l.name}@${l.address}`).join(',')}`), started)
      const shown = await node.admin(['listener', 'show', '--format=json'])
      assert.equal(shown.code, 0, shown.stderr)
      const rows = (JSON.parse(shown.stdout) as { table: Array<{ type: string, port: string }> }).table
      assert.deepEqual(rows.map(r => `${r.type} ${r.port}`).sort(), file.listeners.map(l => `${l.kind} ${l.port}`).sort())
    } finally {
      assert.equal(await node.stop(), 0)
      node.cleanup()
    }
    assert.equal(existsSync(node.portsFile), false)
  })

  it('a file that cannot be written stops the start with one line', async () => {
    const dir = tempDir()
    const file = join(dir, 'missing', 'ports.json')
    const conf = join(dir, 'vernemq.conf')
    writeFileSync(conf, [...OPEN_ACCESS, 'listener.tcp.default = 127.0.0.1:0', 'listener.vmq.clustering = 127.0.0.1:0'].join('\n') + '\n')
    try {
      const r = await vmq(['start', '-c', conf, '--ports-file', file], { cwd: dir })
      assert.equal(r.code, 1)
      assert.equal(r.stderr, `Error: cannot start the node: --ports-file ${file}: cannot write: no such directory\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
