import { test } from 'node:test'
import assert from 'node:assert/strict'
import { invalidShare } from '../../../../src/broker/policy/subscribe.js'

test('shared filters need a group without wildcards and a filter; plain filters are not shares', () => {
  for (const bad of ['$share/g', '$share/g/', '$share//a', '$share/+/a', '$share/a#/b']) assert.equal(invalidShare(bad), true, bad)
  for (const good of ['$share/g/a', '$share/g/#', 'a/b', '$SYS/x', 'share/g']) assert.equal(invalidShare(good), false, good)
})
