import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import pino, { type Logger } from 'pino'
import { RouteDrops } from '../../../src/cluster/route-drops.js'

const INTERVAL_MS = 200

/** A logger writing its records into `lines`, as the node's does into its log. */
function capture (lines: Array<Record<string, unknown>>): Logger {
  return pino({ base: undefined }, new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      done()
    }
  }))
}

test('drops are counted by member and in bytes; each member gets at most one line per interval, with the count since its previous line', async () => {
  const lines: Array<Record<string, unknown>> = []
  const drops = new RouteDrops(capture(lines), INTERVAL_MS)
  drops.add('b', 3, 300)
  drops.add('b', 2, 200)
  drops.add('c', 1, 100)
  assert.deepEqual(lines.map(l => [l.member, l.dropped]), [['b', 3], ['c', 1]], 'the first drop of each member is logged at once')
  drops.add('b', 4, 400)
  assert.equal(drops.count, 10)
  assert.equal(drops.bytes, 1000)
  assert.deepEqual([...drops.byPeer], [['b', 9], ['c', 1]])
  await new Promise(resolve => setTimeout(resolve, INTERVAL_MS * 2))
  assert.deepEqual(lines.map(l => [l.member, l.dropped]), [['b', 3], ['c', 1], ['b', 6]], 'what was held back is logged when the interval ends')
  drops.add('c', 5, 0)
  assert.deepEqual(lines.at(-1), { level: 40, time: lines.at(-1)?.time, member: 'c', dropped: 5, msg: 'routed publishes dropped: the member was unreachable, too slow, or removed before confirming them' })
  drops.close()
})

test('close writes what is still held back', () => {
  const lines: Array<Record<string, unknown>> = []
  const drops = new RouteDrops(capture(lines), 60_000)
  drops.add('b', 1, 10)
  drops.add('b', 7, 70)
  assert.equal(lines.length, 1)
  drops.close()
  assert.deepEqual(lines.map(l => [l.member, l.dropped]), [['b', 1], ['b', 7]])
})
