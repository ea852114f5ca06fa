// A test file that starts a node and never ends, for orphan-nodes.test.ts: it
// does so only when VMQ_HANG_WITH_NODE=1 (the suite loads every file under
// test/, this one included).
import { it } from 'node:test'
import { OPEN_ACCESS, startNode } from './processes.js'

if (process.env.VMQ_HANG_WITH_NODE === '1') {
  it('hangs with a node running', async () => {
    const node = await startNode({ conf: OPEN_ACCESS })
    process.stdout.write(`NODEPID ${String(node.proc.pid)}\n`)
    await new Promise(() => {})
  })
}
