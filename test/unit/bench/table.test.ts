import { test } from 'node:test'
import assert from 'node:assert/strict'
import { median, renderTable } from '../../../bench/report/table.js'
import { paramsFor, parseOptions, UsageError } from '../../../bench/args.js'
import { describeMachine, type RunResult } from '../../../bench/report/result.js'

function result (peer: string, round: number, msgS: number, saturated: 'broker' | 'generator' = 'broker', lost = 0): RunResult {
  const params = paramsFor('fan-in', 0, parseOptions(['fan-in']))
  return {
    date: '2025-01-01T00:00:00Z',
    scenario: 'fan-in',
    peer,
    round,
    params,
    version: 'test',
    machine: describeMachine('test'),
    metrics: { msg_s: msgS, lost },
    cpu: { broker: 1, generator: 0.5, other: 0, saturated }
  }
}

test('median of an even count is the mean of the middle two', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([10, 20]), 15)
})

test('the table shows medians per peer, marks generator-bound and lossy runs, and divides vmq by each peer', () => {
  const table = renderTable([
    result('mosquitto', 1, 100_000, 'generator'), result('aedes', 1, 80_000), result('vmq', 1, 60_000, 'broker', 3),
    result('mosquitto', 2, 120_000, 'generator'), result('aedes', 2, 100_000), result('vmq', 2, 70_000)
  ])
  assert.equal(table, [
    '| scenario | metric | mosquitto | aedes | vmq | vmq ÷ mosquitto | vmq ÷ aedes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    '| fan-in QoS0 | msg/s delivered | ≥110,000 | 90,000 | 65,000* | 0.59× | 0.72× |'
  ].join('\n'))
})

test('bad options are usage errors that name the flag', () => {
  assert.throws(() => parseOptions(['fan-in', '--qos', '2']), (err: Error) => err instanceof UsageError && err.message === '--qos 2: expected 0, 1 or 0,1')
  assert.throws(() => parseOptions(['fan-in', '--payload', 'big']), (err: Error) => err instanceof UsageError && err.message === '--payload big: expected a number >= 0')
  assert.throws(() => parseOptions(['fan-in', '--peers', 'hivemq']), (err: Error) => err instanceof UsageError && /unknown peer "hivemq"/.test(err.message))
})

test('smoke sizes apply unless an option overrides them', () => {
  const p = paramsFor('storm', 0, parseOptions(['storm', '--smoke']))
  assert.equal(p.connections, 200)
  assert.equal(paramsFor('storm', 0, parseOptions(['storm', '--smoke', '--connections', '50'])).connections, 50)
  assert.equal(paramsFor('pairs', 1, parseOptions(['pairs'])).rate, 5000)
})

test('--base adds the peer vmq-base, and vmq is divided by it', () => {
  assert.deepEqual(parseOptions(['fan-in']).peers, ['mosquitto', 'aedes', 'vmq', 'vmq-secure'])
  assert.deepEqual(parseOptions(['fan-in', '--base', '/tmp/x']).peers, ['mosquitto', 'aedes', 'vmq', 'vmq-secure', 'vmq-base'])
  const table = renderTable([result('vmq-base', 1, 50_000), result('vmq', 1, 60_000)])
  assert.equal(table.split('\n')[2], '| fan-in QoS0 | msg/s delivered | 60,000 | 50,000 | 1.20× |')
})
