import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { MAX_QUEUED_LINES, RateLimit, TraceOutput } from '../../../../src/broker/trace/output.js'
import type { TraceLine } from '../../../../src/rpc/generated/vmq/TraceLine.js'

/** A stream that takes `room` lines, then reports full until drain(). */
class FullStream extends EventEmitter {
  readonly written: string[] = []
  constructor (private room: number) { super() }
  write (line: TraceLine): boolean {
    this.written.push(line.text ?? '')
    return --this.room > 0
  }

  drain (room: number): void {
    this.room = room
    this.emit('drain')
  }
}

describe('TraceOutput', () => {
  it('queues at most MAX_QUEUED_LINES while the stream is full, counts the rest, and reports them after the queue', () => {
    const stream = new FullStream(1)
    const out = new TraceOutput(stream)
    const total = MAX_QUEUED_LINES + 251
    for (let i = 0; i < total; i++) out.write({ text: `l${i}` })
    assert.deepEqual(stream.written, ['l0'])
    stream.drain(Infinity)
    assert.equal(stream.written.length, 1 + MAX_QUEUED_LINES + 1)
    assert.equal(stream.written[MAX_QUEUED_LINES], `l${MAX_QUEUED_LINES}`)
    assert.equal(stream.written.at(-1), '250 trace lines dropped: the trace was read too slowly')
  })

  it('held lines go out after the ones release() puts first; nothing after close()', () => {
    const stream = new FullStream(Infinity)
    const out = new TraceOutput(stream, true)
    out.write({ text: 'packet' })
    assert.deepEqual(stream.written, [])
    out.release([{ text: 'summary' }])
    out.write({ text: 'next' })
    out.close()
    out.write({ text: 'late' })
    assert.deepEqual(stream.written, ['summary', 'packet', 'next'])
  })
})

describe('RateLimit', () => {
  it('lets max lines through per interval and reports the count of the others when it ends', async () => {
    const reports: number[] = []
    const limit = new RateLimit(2, 50, n => reports.push(n))
    assert.deepEqual([limit.take(), limit.take(), limit.take(), limit.take()], [true, true, false, false])
    assert.deepEqual(reports, [])
    // the report comes from a timer at the interval's end: wait for it (bounded; the machine may be busy)
    for (let i = 0; i < 200 && reports.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(reports, [2])
    assert.equal(limit.take(), true)
    limit.stop()
  })
})
