// A short run of the malformed-input fuzzer (bench/fuzz.ts; the full run is
// 100,000 packets): the node never exits and a well-behaved client's QoS 1
// round trips never fail while generated packets hit it over tcp and ws, 3.1.1 and 5.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fuzz } from '../../bench/fuzz.js'

describe('fuzzing with generated packets (seed 7, 4,000 packets)', () => {
  it('the node keeps running, closes bad sessions and serves the well-behaved client', async () => {
    // memory is measured by the full run; here RSS may go anywhere
    const result = await fuzz({ seed: 7, packets: 4000, concurrency: 8, transports: ['tcp', 'ws'], protocols: [4, 5], rssSlack: 1000 })
    assert.equal(result.nodeExit, null)
    const canary = result.canary as { roundTrips: number, failures: number }
    assert.equal(canary.failures, 0)
    assert.ok(canary.roundTrips > 0, 'round trips happened')
    assert.ok((result.closedByNode as number) > (result.sessions as number) / 2, `the node closed most sessions: ${JSON.stringify(result)}`)
    assert.equal(result.held, true)
  })
})
