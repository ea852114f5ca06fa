import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { withConfigTable } from '../../../src/config/docs.js'

test('the README configuration table matches the schema (run `npm run docs` after changing it)', () => {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8')
  assert.equal(readme, withConfigTable(readme))
})

test('the README starts with the two set-up commands', () => {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('npm ci && npm start')
  const test = readme.indexOf('npm test')
  assert.ok(start > 0 && test > start)
})
