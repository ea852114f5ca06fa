import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { waitMembers } from './helpers/cluster.js'
import { OPEN_ACCESS, restartNode, startNode, waitFor, type TestNode } from './helpers/processes.js'

async function health (port: number, path: string): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(8000) })
  return { status: res.status, body: JSON.parse(await res.text()) }
}

const OK = { status: 200, body: { status: 'OK' } }

describe('/health/listeners_full_cluster and /health in a two-node cluster', () => {
  it('200 while every listener of every member runs; 503 naming a stopped listener or an unreachable member; 200 again after', async () => {
    const n1 = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    let n2: TestNode = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0', `discovery_node = ${n1.adminAddress}`] })
    const [p1, p2] = [n1.port('http.default'), n2.port('http.default')]
    const FULL = '/health/listeners_full_cluster'
    try {
      await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 10000)
      await waitFor(async () => (await health(p1, FULL)).status === 200, 10000, 'full cluster healthy')
      assert.deepEqual(await health(p2, FULL), OK)

      // an MQTT listener of n2 stopped: n2's /health and everyone's full-cluster check say so
      const stop = await n2.admin(['listener', 'stop', 'address=127.0.0.1', `port=${n2.mqttPort}`])
      assert.equal(stop.code, 0, stop.stderr)
      const notReady = `Listeners are not ready: [mqtt 127.0.0.1:${n2.mqttPort} suspended]`
      assert.deepEqual(await health(p2, '/health'), { status: 503, body: { status: 'DOWN', reasons: [notReady] } })
      assert.deepEqual(await health(p1, FULL), { status: 503, body: { status: 'DOWN', reasons: [`${n2.nodename}: ${notReady}`] } })
      assert.deepEqual(await health(p2, FULL), { status: 503, body: { status: 'DOWN', reasons: [`${n2.nodename}: ${notReady}`] } })
      assert.deepEqual(await health(p1, '/health'), OK)
      const restart = await n2.admin(['listener', 'restart', 'address=127.0.0.1', `port=${n2.mqttPort}`])
      assert.equal(restart.code, 0, restart.stderr)
      assert.deepEqual(await health(p2, '/health'), OK)
      assert.deepEqual(await health(p1, FULL), OK)

      // n2 unreachable, then back
      await n2.kill()
      await waitFor(async () => (await health(p1, FULL)).status === 503, 10000, 'full cluster DOWN')
      assert.deepEqual(await health(p1, FULL), { status: 503, body: { status: 'DOWN', reasons: [`At least one node is offline: [${n2.nodename}]`] } })
      n2 = await restartNode(n2)
      await waitFor(async () => (await health(p1, FULL)).status === 200, 15000, 'full cluster healthy after the member returned')
      assert.deepEqual(await health(p2, FULL), OK)
    } finally {
      await n2.stop()
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})
