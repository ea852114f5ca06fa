import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/config/parse.js'

function confFile (text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vmq-conf-')), 'vernemq.conf')
  writeFileSync(file, text)
  return file
}

function problems (text: string): string[] {
  try {
    loadConfig({ file: confFile(text) })
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n').map(l => l.replace(/^.*vernemq\.conf(:\d+)?: /, ''))
    throw err
  }
  return []
}

test('vmq_webhooks.NAME.* entries become webhooks in name order with VerneMQ\'s defaults', () => {
  const config = loadConfig({
    file: confFile([
      'plugins.vmq_webhooks = on',
      'vmq_webhooks.zz.hook = on_publish',
      'vmq_webhooks.zz.endpoint = "http://127.0.0.1:8080/pub"',
      'vmq_webhooks.aa.hook = auth_on_register',
      'vmq_webhooks.aa.endpoint = https://auth.example/reg',
      'vmq_webhooks.aa.base64encode = off',
      'vmq_webhooks.aa.no_payload = on',
      'vmq_webhooks.aa.response_timeout = 250',
      'vmq_webhooks.pool_max_connections = 7'
    ].join('\n'))
  })
  assert.deepEqual(config.webhooks, [
    { hook: 'auth_on_register', endpoint: 'https://auth.example/reg', base64Payload: false, noPayload: true, responseTimeout: 250 },
    { hook: 'on_publish', endpoint: 'http://127.0.0.1:8080/pub', base64Payload: true, noPayload: false, responseTimeout: 8000 }
  ])
  assert.equal(config.values.get('vmq_webhooks.pool_max_connections'), 7)
  assert.deepEqual(config.warnings, [])
})

test('a webhook without hook or endpoint, an unknown hook, option or URL scheme is refused with its key', () => {
  assert.deepEqual(problems('vmq_webhooks.a.hook = on_publish\n'), ['vmq_webhooks.a.endpoint is not defined'])
  assert.deepEqual(problems('vmq_webhooks.a.endpoint = http://x/\n'), ['vmq_webhooks.a.hook is not defined'])
  assert.match(problems('vmq_webhooks.a.hook = on_nothing\nvmq_webhooks.a.endpoint = http://x/\n')[0], /vmq_webhooks\.a\.hook: invalid value "on_nothing", expected one of auth_on_register/)
  assert.deepEqual(problems('vmq_webhooks.a.hook = on_publish\nvmq_webhooks.a.endpoint = ftp://x/\n'), ['vmq_webhooks.a.endpoint: invalid endpoint "ftp://x/", expected an http:// or https:// URL', 'vmq_webhooks.a.endpoint is not defined'])
  assert.match(problems('vmq_webhooks.a.timeout = 5\n')[0], /unknown webhook option "timeout", expected one of hook, endpoint, base64encode, no_payload, response_timeout/)
})
