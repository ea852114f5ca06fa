import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TopicIndex } from '../../../../src/broker/store/topic-index.js'

test('the index finds every client whose filter matches, and forgets removed ones', () => {
  const index = new TopicIndex()
  index.add('a/#', 'one', { qos: 1 })
  index.add('a/+', 'two', { qos: 2 })
  index.add('a/b', 'one', { qos: 1 })
  index.add('#', 'three', { qos: 1 })
  index.add('b', 'four', { qos: 1 })
  assert.equal(index.count, 5)
  assert.deepEqual(index.match('a/b').map(m => `${m.clientId} ${m.topic}`), ['three #', 'one a/#', 'one a/b', 'two a/+'])
  assert.deepEqual(index.match('$SYS/a').map(m => m.clientId), [])
  index.remove('a/#', 'one')
  index.remove('a/+', 'nobody')
  assert.equal(index.count, 4)
  assert.deepEqual(index.match('a/b').map(m => `${m.clientId} ${m.topic}`), ['three #', 'one a/b', 'two a/+'])
  index.add('a/b', 'one', { qos: 2 })
  assert.equal(index.count, 4)
  assert.equal(index.match('a/b').find(m => m.topic === 'a/b')?.qos, 2)
})
