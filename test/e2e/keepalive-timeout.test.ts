// A connection closed for its keep alive: counted in client_keepalive_expired
// and logged, as a warning unless logging.keepalive_as_warning = off.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { RawClient } from './helpers/raw.js'

const LINE = 'client disconnected: keepalive timeout (nothing arrived for 1.5 times its keep alive) client=silent mountpoint='

async function silentClient (node: TestNode): Promise<number> {
  const opened = Date.now()
  const raw = await RawClient.open(node.mqttPort, 'silent', { keepalive: 1 })
  await raw.next('connack')
  await raw.waitClosed(4000)
  return Date.now() - opened
}

function logLine (node: TestNode): string | undefined {
  return node.stdout.split('\n').find(l => l.includes(LINE))?.replace(/^\S+ /, '')
}

describe('keepalive timeout', () => {
  it('closes a 3.1.1 client silent for 1.5 x its keep alive, logs a warning and counts it', async () => {
    const node = await startNode({ conf: OPEN_ACCESS })
    try {
      const lived = await silentClient(node)
      assert.ok(lived >= 1400 && lived < 3500, `closed after ${lived} ms`)
      await waitFor(() => logLine(node) !== undefined, 2000, 'the keepalive line')
      assert.equal(logLine(node), `[warning] ${LINE}`)
      const metrics = await node.admin(['metrics', 'show'])
      assert.ok(metrics.stdout.split('\n').includes('counter.client_keepalive_expired = 1'), metrics.stdout)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('logs it at info with logging.keepalive_as_warning = off', async () => {
    const node = await startNode({ conf: [...OPEN_ACCESS, 'logging.keepalive_as_warning = off', 'log.console.level = info'] })
    try {
      await silentClient(node)
      await waitFor(() => logLine(node) !== undefined, 2000, 'the keepalive line')
      assert.equal(logLine(node), `[info] ${LINE}`)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
