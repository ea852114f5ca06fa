// A short run of the malformed-input fuzzer (bench/fuzz.ts; the full run is
// 100,000 packets): the node never exits and a well-behaved client's QoS 1
// round trips never fail while generated packets hit it over tcp and ws, 3.1.1 and 5,
// and every session that breaks the protocol is closed (v5: with the right reason first).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fuzz } from '../../bench/fuzz.js'

describe('fuzzing with generated packets (seed 7, 4,000 packets)', () => {
  it('the node keeps running, closes every bad session (v5: right reason first) and serves the well-behaved client', async () => {
    // memory is measured by the full run; here RSS may go anywhere
    const result = await fuzz({ seed: 7, packets: 4000, concurrency: 8, transports: ['tcp', 'ws'], protocols: [4, 5], rssSlack: 1000 })
    assert.equal(result.nodeExit, null)
    const canary = result.canary as { roundTrips: number, failures: number }
    assert.equal(canary.failures, 0)
    assert.ok(canary.roundTrips > 0, 'round trips happened')
    // every session the oracle (bench/fuzz-oracle.ts) calls a protocol violation was closed by the node,
    // an MQTT 5 one after a CONNACK/DISCONNECT with an allowed reason code
    const groups = result.groups as Record<string, { sessions: number, badClosed: number, badOpen: number, replyWrong: number, replyMissing: number, badOpenExamples: unknown[], replyExamples: unknown[] }>
    assert.deepEqual(Object.keys(groups).sort(), ['v3.1.1/tcp', 'v3.1.1/ws', 'v5/tcp', 'v5/ws'])
    for (const [name, g] of Object.entries(groups)) {
      assert.ok(g.badClosed > 0, `${name}: bad sessions were generated`)
      assert.equal(g.badOpen, 0, `${name}: bad sessions left open: ${JSON.stringify(g.badOpenExamples)}`)
      assert.equal(g.replyWrong + g.replyMissing, 0, `${name}: v5 reasons wrong or missing: ${JSON.stringify(g.replyExamples)}`)
    }
    assert.equal(result.held, true)
  })
})
