import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isValidTopicFilter } from '../../../src/mqtt/topic-filter.js'

test('topic filters: wildcards only as whole levels, # only last, never empty (MQTT 5 §4.7)', () => {
  for (const ok of ['#', '+', 'a', 'a/#', 'a/+/b', '+/+', '/', 'a//b', '$share/g/a/#', 'sport/tennis/+']) assert.equal(isValidTopicFilter(ok), true, ok)
  for (const bad of ['', 'a#', 'a/#/b', '#/a', 'a/b+', '+a/b', 'a/##', 'sport/tennis#']) assert.equal(isValidTopicFilter(bad), false, bad)
})
