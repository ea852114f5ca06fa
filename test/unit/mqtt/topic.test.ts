import { test } from 'node:test'
import assert from 'node:assert/strict'
import { filterMatches, isValidTopicFilter, parseShare, subscriptionMatches } from '../../../src/mqtt/topic.js'
import { TopicIndex } from '../../../src/broker/store/topic-index.js'
import { RemoteInterest } from '../../../src/cluster/interest.js'
import { SubscriptionQos } from '../../../src/broker/delivery/outgoing-qos.js'
import { int, pick, rng } from '../../helpers/rng.js'

test('topic filters: wildcards only as whole levels, # only last, never empty (MQTT 5 §4.7)', () => {
  for (const ok of ['#', '+', 'a', 'a/#', 'a/+/b', '+/+', '/', 'a//b', '$share/g/a/#', 'sport/tennis/+']) assert.equal(isValidTopicFilter(ok), true, ok)
  for (const bad of ['', 'a#', 'a/#/b', '#/a', 'a/b+', '+a/b', 'a/##', 'sport/tennis#']) assert.equal(isValidTopicFilter(bad), false, bad)
})

test('filters match topic names by MQTT rules; a malformed filter matches nothing', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['+/+', '/x', true],
    ['+', '', true],
    ['/#', '/', true],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/+', '$SYS/x', true],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a/#/b', 'a/x/b', false],
    ['a/#/b', 'a/#/b', false],
    ['#/a', 'x/a', false]
  ]
  for (const [filter, topic, expected] of cases) assert.equal(filterMatches(filter, topic), expected, `${filter} vs ${topic}`)
})

test('$share/<group>/<filter>: group not empty and without wildcards, filter not empty (MQTT 5 §4.8.2)', () => {
  assert.deepEqual(parseShare('$share/g/a/+'), { group: 'g', filter: 'a/+' })
  assert.deepEqual(parseShare('$share/g//'), { group: 'g', filter: '/' })
  for (const bad of ['$share/g', '$share/g/', '$share//a', '$share/+/a', '$share/g#/a', 'share/g/a', '$SHARE/g/a']) assert.equal(parseShare(bad), undefined, bad)
  assert.ok(subscriptionMatches('$share/g/a/+', 'a/b'))
  assert.ok(!subscriptionMatches('$share/g', 'g'))
  assert.ok(!subscriptionMatches('$share/+/a', 'a'))
  assert.ok(subscriptionMatches('a/+', 'a/b'))
})

// The indexes that find subscriptions fast must give what filterMatches gives.
const WORDS = ['a', 'b', '', '$SYS', 'c']

function randomTopic (r: () => number): string {
  return Array.from({ length: 1 + int(r, 4) }, () => pick(r, WORDS)).join('/')
}

function randomFilter (r: () => number): string {
  const levels = Array.from({ length: 1 + int(r, 4) }, () => pick(r, [...WORDS, '+', '+']))
  if (int(r, 3) === 0) levels.push('#')
  return levels.join('/')
}

test('the persistent-subscription index, the cluster routing index and the outgoing QoS lookup agree with filterMatches', () => {
  const r = rng(7)
  const filters = [...new Set(Array.from({ length: 200 }, () => randomFilter(r)))]
  const topics = [...new Set(Array.from({ length: 300 }, () => randomTopic(r)))]
  const index = new TopicIndex()
  filters.forEach((f, i) => index.add(f, `c${i}`, { qos: 1 }))
  for (const topic of topics) {
    const expected = filters.filter(f => filterMatches(f, topic)).sort()
    assert.deepEqual(index.match(topic).map(m => m.topic).sort(), expected, `index: ${topic}`)
    for (const filter of filters.slice(0, 40)) {
      const interest = new RemoteInterest()
      interest.add(filter)
      assert.equal(interest.matches(topic), filterMatches(filter, topic), `routing: ${filter} vs ${topic}`)
      const qos = new SubscriptionQos().lookup({ [filter]: { qos: 1 } }, topic)
      assert.equal(qos >= 0, filterMatches(filter, topic), `outgoing QoS: ${filter} vs ${topic}`)
    }
  }
})
