import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/config/parse.js'
import { parseTopicLine } from '../../../src/config/bridge.js'

function confFile (text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vmq-conf-')), 'vernemq.conf')
  writeFileSync(file, text)
  return file
}

function problemsOf (fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n')
    throw err
  }
  assert.fail('expected a ConfigError')
}

test('topic lines: pattern, direction, QoS and prefixes with their defaults', () => {
  assert.deepEqual(parseTopicLine('a/#'), { pattern: 'a/#', direction: 'out', qos: 0, localPrefix: '', remotePrefix: '' })
  assert.deepEqual(parseTopicLine('a/+  in'), { pattern: 'a/+', direction: 'in', qos: 0, localPrefix: '', remotePrefix: '' })
  assert.deepEqual(parseTopicLine('/bridge/# both 1 local/ remote/'), { pattern: '/bridge/#', direction: 'both', qos: 1, localPrefix: 'local/', remotePrefix: 'remote/' })
  assert.deepEqual(parseTopicLine('x out 2 $empty r/'), { pattern: 'x', direction: 'out', qos: 2, localPrefix: '', remotePrefix: 'r/' })
  assert.deepEqual(parseTopicLine('*'), { pattern: '#', direction: 'out', qos: 0, localPrefix: '', remotePrefix: '' })
  assert.equal(parseTopicLine('a/# sideways'), 'direction must be in, out or both, got "sideways"')
  assert.equal(parseTopicLine('a/# out 3'), 'QoS must be 0, 1 or 2, got "3"')
  assert.equal(parseTopicLine('a/# in 1 local/'), 'expected "pattern [[[in|out|both] qos] local_prefix remote_prefix]": give both prefixes or none')
  assert.equal(parseTopicLine('a/#/b'), '"a/#/b" is not a valid topic filter')
  assert.equal(parseTopicLine('a in 1 l/+ r/'), 'prefix "l/+" must not contain wildcards')
})

test('bridges: address, options with defaults, topics in id order', () => {
  const config = loadConfig({
    file: confFile([
      'plugins.vmq_bridge = on',
      'vmq_bridge.tcp.br0 = 127.0.0.1:1889',
      'vmq_bridge.tcp.br0.topic.2 = b/# in 1',
      'vmq_bridge.tcp.br0.topic.1 = a/# out 0 l/ r/',
      'vmq_bridge.tcp.br0.max_outgoing_buffered_messages = 5',
      'vmq_bridge.ssl.sbr0 = localhost:8883',
      'vmq_bridge.ssl.sbr0.client_id = me',
      'vmq_bridge.ssl.sbr0.cafile = certs/ca.pem',
      'vmq_bridge.ssl.sbr0.topic.1 = c/#'
    ].join('\n'))
  })
  assert.equal(config.bridges.length, 2)
  const [br0, sbr0] = config.bridges
  assert.equal(br0.name, 'br0')
  assert.equal(br0.transport, 'tcp')
  assert.equal(br0.port, 1889)
  assert.equal(br0.clientId, `${hostname()}.br0`)
  assert.equal(br0.keepalive, 60)
  assert.equal(br0.restartTimeout, 10)
  assert.equal(br0.tryPrivate, true)
  assert.equal(br0.cleanSession, false)
  assert.equal(br0.maxOutgoingBuffered, 5)
  assert.deepEqual(br0.topics.map(t => t.pattern), ['a/#', 'b/#'])
  assert.equal(sbr0.transport, 'ssl')
  assert.equal(sbr0.clientId, 'me')
  assert.ok(sbr0.cafile.endsWith('/certs/ca.pem') && sbr0.cafile.startsWith('/'))
})

test('bridges: every bad line is reported with file:line and the key', () => {
  const file = confFile([
    'vmq_bridge.tcp.br0 = 127.0.0.1:1889',
    'vmq_bridge.tcp.br0.topic.1 = a/# sideways',
    'vmq_bridge.tcp.br0.keepalive_intervall = 5',
    'vmq_bridge.tcp.br0.cafile = x.pem',
    'vmq_bridge.tcp.br1.topic.1 = a/#',
    'vmq_bridge.tcp.br2 = nowhere',
    'vmq_bridge.udp.br3 = 127.0.0.1:1'
  ].join('\n'))
  assert.deepEqual(problemsOf(() => loadConfig({ file })), [
    `${file}:2: vmq_bridge.tcp.br0.topic.1: invalid topic line "a/# sideways": direction must be in, out or both, got "sideways"`,
    `${file}:3: vmq_bridge.tcp.br0.keepalive_intervall: unknown bridge option "keepalive_intervall" (did you mean "keepalive_interval"?)`,
    `${file}:4: vmq_bridge.tcp.br0.cafile: unknown bridge option "cafile" (TLS options need vmq_bridge.ssl.NAME)`,
    `${file}:6: vmq_bridge.tcp.br2: invalid value "nowhere", expected the remote broker as host:port`,
    `${file}:7: vmq_bridge.udp.br3: expected vmq_bridge.tcp.NAME or vmq_bridge.ssl.NAME, optionally followed by .OPTION`,
    `${file}:5: vmq_bridge.tcp.br1.topic.1: bridge br1 has options but no address (vmq_bridge.tcp.br1 = host:port)`,
    `${file}:6: vmq_bridge.tcp.br2: bridge br2 has options but no address (vmq_bridge.tcp.br2 = host:port)`
  ])
})
