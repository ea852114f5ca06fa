import { test } from 'node:test'
import assert from 'node:assert/strict'
import { localFilter, remoteFilter, toLocal, toRemote } from '../../src/broker/bridge/topics.js'
import type { BridgeTopic } from '../../src/config/bridge.js'

const line = (pattern: string, localPrefix: string, remotePrefix: string): BridgeTopic => ({ pattern, direction: 'both', qos: 1, localPrefix, remotePrefix })

test('out: local filter with the local prefix, remote topic with the prefix swapped', () => {
  const l = line('a/#', 'local/', 'remote/')
  assert.equal(localFilter(l), 'local/a/#')
  assert.equal(toRemote(l, 'local/a/b'), 'remote/a/b')
  assert.equal(toRemote(line('a/#', '', 'site/'), 'a/b'), 'site/a/b')
  assert.equal(toRemote(line('a/#', 'l/', ''), 'l/a'), 'a')
})

test('in: remote filter with the remote prefix; a topic it does not match maps to nothing', () => {
  const l = line('+/temp', 'here/', 'there/')
  assert.equal(remoteFilter(l), 'there/+/temp')
  assert.equal(toLocal(l, 'there/k1/temp'), 'here/k1/temp')
  assert.equal(toLocal(l, 'there/k1/humidity'), undefined)
  assert.equal(toLocal(line('#', '', ''), 'x/y'), 'x/y')
})
