import { test } from 'node:test'
import assert from 'node:assert/strict'
import { median, renderClusterTable, renderTable } from '../../../bench/report/table.js'
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

test('--protocol takes 4, 3.1.1, 5 or a list, defaults to 4, and lands in the params', () => {
  assert.deepEqual(parseOptions(['fan-in']).protocols, [4])
  assert.deepEqual(parseOptions(['fan-in', '--protocol', '3.1.1']).protocols, [4])
  assert.deepEqual(parseOptions(['fan-in', '--protocol', '5']).protocols, [5])
  assert.deepEqual(parseOptions(['fan-in', '--protocol', '4,5']).protocols, [4, 5])
  assert.equal(paramsFor('fan-in', 1, parseOptions(['fan-in'])).protocol, 4)
  assert.equal(paramsFor('fan-in', 1, parseOptions(['fan-in', '--protocol', '5'])).protocol, 5)
  assert.throws(() => parseOptions(['fan-in', '--protocol', '3']), (err: Error) => err instanceof UsageError && err.message === '--protocol 3: expected 4 (or 3.1.1), 5, or 4,5')
})

test('MQTT 5 runs get their own rows; results without a protocol (written before --protocol) are 3.1.1 rows', () => {
  const v5 = (r: RunResult): RunResult => ({ ...r, params: { ...r.params, protocol: 5 } })
  const old = (r: RunResult): RunResult => {
    const { protocol: _dropped, ...params } = r.params
    return { ...r, params: params as RunResult['params'] }
  }
  const table = renderTable([
    old(result('mosquitto', 1, 100_000)), result('vmq', 1, 50_000),
    v5(result('mosquitto', 1, 90_000)), v5(result('vmq', 1, 60_000))
  ])
  assert.deepEqual(table.split('\n').slice(2), [
    '| fan-in QoS0 | msg/s delivered | 100,000 | 50,000 | 0.50× |',
    '| fan-in QoS0 v5 | msg/s delivered | 90,000 | 60,000 | 0.67× |'
  ])
})

test('the cluster table sets a v5 cluster run against the v5 fan-out of the same peer', () => {
  const run = (scenario: 'fan-out' | 'cross-node', protocol: 4 | 5, msgS: number): RunResult => ({
    ...result('vmq', 1, msgS),
    scenario,
    params: { ...paramsFor(scenario, 1, parseOptions([scenario])), protocol },
    metrics: { msg_s: msgS, cpu_us_per_pub: 100 }
  })
  const table = renderClusterTable([run('fan-out', 4, 40_000), run('fan-out', 5, 30_000), run('cross-node', 4, 20_000), run('cross-node', 5, 27_000)])
  assert.deepEqual(table.split('\n').slice(2), [
    '| cross-node QoS1 | vmq | 20,000 | 40,000 | 0.50× | 100 | 100 | 1.00× |',
    '| cross-node QoS1 v5 | vmq | 27,000 | 30,000 | 0.90× | 100 | 100 | 1.00× |'
  ])
})
