// A test that times out must not leave its nodes running: the runner ends the
// file's process before the test's `after` hook can stop them.
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { waitFor } from './helpers/processes.js'

const FIXTURE = fileURLToPath(new URL('./helpers/hang-with-node.js', import.meta.url))

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

it('the nodes of a test file whose test timed out are gone once the runner ends it', async () => {
  // a runner of its own, not a child reporting to this one
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env
  const runner = spawn(process.execPath, ['--test', '--test-reporter=tap', '--test-timeout=5000', FIXTURE], { env: { ...env, VMQ_HANG_WITH_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  runner.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => runner.on('exit', resolve))
  const pid = Number(/NODEPID (\d+)/.exec(out)?.[1] ?? 0)
  assert.ok(pid > 0, out)
  assert.equal(code, 1, out)
  assert.match(out, /test timed out after 5000ms/)
  await waitFor(() => !alive(pid), 5000, `node ${pid} to be gone`)
})
