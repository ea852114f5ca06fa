// Runs the benchmark's smoke mode against mosquitto and plain aedes, so that the suite keeps working.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunResult } from '../../bench/report/result.js'

const RUNNER = fileURLToPath(new URL('../../bench/run.js', import.meta.url))

test('the fan-in smoke runs against mosquitto and plain aedes and reports one JSON line per run', { timeout: 60_000 }, async () => {
  assert.ok(existsSync('/usr/sbin/mosquitto'), 'mosquitto is not installed: apt-get install mosquitto (Debian package "mosquitto")')
  const results = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
  try {
    const { code, stdout, stderr } = await run(['fan-in', '--smoke', '--peers', 'mosquitto,aedes', '--qos', '0', '--json-only', '--results', results])
    assert.equal(code, 0, `bench exited ${String(code)}: ${stderr}`)
    const lines = stdout.trim().split('\n').map(l => JSON.parse(l) as RunResult)
    assert.deepEqual(lines.map(r => r.peer), ['mosquitto', 'aedes'])
    for (const r of lines) {
      assert.equal(r.error, undefined, `${r.peer}: ${String(r.error)}`)
      assert.equal(r.scenario, 'fan-in')
      assert.ok(r.metrics.msg_s > 0, `${r.peer} delivered nothing: ${JSON.stringify(r.metrics)}`)
      assert.equal(r.metrics.received, r.metrics.expected, `${r.peer} lost messages: ${JSON.stringify(r.metrics)}`)
      assert.ok(r.latency_us !== undefined && r.latency_us.p50 > 0 && r.latency_us.p99 >= r.latency_us.p50)
      assert.ok(r.cpu !== undefined && r.cpu.broker > 0 && r.cpu.generator > 0, JSON.stringify(r.cpu))
      assert.ok(['broker', 'generator', 'both', 'neither'].includes(r.cpu.saturated))
    }
    const files = readdirSync(results)
    assert.equal(files.length, 1)
    assert.equal(readFileSync(join(results, files[0]), 'utf8'), stdout)
  } finally {
    rmSync(results, { recursive: true, force: true })
  }
})

test('the fan-in smoke at MQTT 5 and QoS 1 delivers every message from mosquitto and plain aedes and records protocol 5', { timeout: 60_000 }, async () => {
  assert.ok(existsSync('/usr/sbin/mosquitto'), 'mosquitto is not installed: apt-get install mosquitto (Debian package "mosquitto")')
  const results = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
  try {
    const { code, stdout, stderr } = await run(['fan-in', '--smoke', '--peers', 'mosquitto,aedes', '--qos', '1', '--protocol', '5', '--json-only', '--results', results])
    assert.equal(code, 0, `bench exited ${String(code)}: ${stderr}`)
    const lines = stdout.trim().split('\n').map(l => JSON.parse(l) as RunResult)
    assert.deepEqual(lines.map(r => [r.peer, r.params.protocol, r.params.qos]), [['mosquitto', 5, 1], ['aedes', 5, 1]])
    for (const r of lines) {
      assert.equal(r.error, undefined, `${r.peer}: ${String(r.error)}`)
      assert.ok(r.metrics.msg_s > 0, `${r.peer} delivered nothing: ${JSON.stringify(r.metrics)}`)
      assert.equal(r.metrics.received, r.metrics.expected, `${r.peer} lost messages: ${JSON.stringify(r.metrics)}`)
      assert.equal(r.metrics.acked, r.metrics.sent, `${r.peer} left QoS 1 messages unacknowledged: ${JSON.stringify(r.metrics)}`)
      assert.equal(r.metrics.errors, 0)
      assert.ok(r.latency_us !== undefined && r.latency_us.p50 > 0)
    }
  } finally {
    rmSync(results, { recursive: true, force: true })
  }
})

test('the runner rejects an unknown scenario with a one-line message and exit code 1', async () => {
  const { code, stderr } = await run(['fan-everywhere'])
  assert.equal(code, 1)
  assert.match(stderr, /^unknown scenario "fan-everywhere": expected one of fan-in, fan-out, pairs, storm, cross-node, cluster-fan-out, persistent, all or report\n$/)
})

async function run (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise(resolve => {
    execFile(process.execPath, [RUNNER, ...args], { timeout: 50_000 }, (err, stdout, stderr) => {
      const code: unknown = err === null ? 0 : (err as { code?: unknown }).code
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr })
    })
  })
}
