import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vmqProto } from '../../src/rpc/proto.js'

test('the proto loads and defines the Admin service', () => {
  assert.ok(vmqProto().Admin.service.ClusterShow)
})
