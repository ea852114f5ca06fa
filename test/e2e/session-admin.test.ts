import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import type { MqttClient } from 'mqtt'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

type Row = Record<string, string | number | boolean | null>

/** `session show ... --format=json` rows; fails the test on a non-zero exit. */
async function sessions (node: TestNode, args: string[]): Promise<Row[]> {
  const r = await node.admin(['session', 'show', ...args, '--format=json'])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { type: string, table: Row[] }).table
}

function localPort (client: MqttClient): number {
  return (client.stream as Socket).localPort ?? -1
}

describe('session show / disconnect on one node', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('lists two clients in the default table and as JSON; user is undefined without a username', async () => {
    const ann = await connect(node.mqttUrl, { clientId: 'alpha', username: 'ann' })
    const anon = await connect(node.mqttUrl, { clientId: 'beta' })
    try {
      const human = await node.admin(['session', 'show', '--client_id=~^(alpha|beta)$'])
      assert.equal(human.code, 0, human.stderr)
      const lines = human.stdout.trimEnd().split('\n')
      assert.match(lines[1], /^\| client_id +\| is_online +\| mountpoint +\| peer_host +\| peer_port +\| user +\|$/)
      assert.equal(lines.length, 7, 'rule, header, rule, row, rule, row, rule')
      assert.match(lines[3], new RegExp(`^\\| alpha +\\| true +\\| +\\| 127\\.0\\.0\\.1 +\\| ${localPort(ann)} +\\| ann +\\|$`))
      assert.match(lines[5], new RegExp(`^\\| beta +\\| true +\\| +\\| 127\\.0\\.0\\.1 +\\| ${localPort(anon)} +\\| undefined +\\|$`))

      const json = await node.admin(['session', 'show', '--client_id=~^(alpha|beta)$', '--format=json'])
      assert.deepEqual(JSON.parse(json.stdout), {
        type: 'table',
        table: [
          { client_id: 'alpha', is_online: true, mountpoint: '', peer_host: '127.0.0.1', peer_port: localPort(ann), user: 'ann' },
          { client_id: 'beta', is_online: true, mountpoint: '', peer_host: '127.0.0.1', peer_port: localPort(anon), user: null }
        ]
      })
    } finally {
      await endAll(ann, anon)
    }
  })

  it('field flags add columns in alphabetical order; --field=value filters; one row per subscription', async () => {
    const gamma = await connect(node.mqttUrl, { clientId: 'gamma', username: 'gus', protocolVersion: 5 })
    const other = await connect(node.mqttUrl, { clientId: 'gamma-2' })
    try {
      await gamma.subscribeAsync('f/1', { qos: 1 })
      await gamma.subscribeAsync('f/2/#', { qos: 0 })
      assert.deepEqual(await sessions(node, ['--topic', '--qos', '--client_id', '--client_id=gamma']), [
        { client_id: 'gamma', qos: 1, topic: 'f/1' },
        { client_id: 'gamma', qos: 0, topic: 'f/2/#' }
      ])
      assert.deepEqual(await sessions(node, ['--protocol', '--is_online', '--clean_session', '--client_id=~^gamma']), [
        { clean_session: true, is_online: true, protocol: 5 },
        { clean_session: true, is_online: true, protocol: 4 }
      ])
      // filters only: the default columns
      const byUser = await sessions(node, ['--user=gus', '--is_online=true'])
      assert.deepEqual(byUser.map(r => r.client_id), ['gamma'])
      assert.deepEqual(Object.keys(byUser[0]), ['client_id', 'is_online', 'mountpoint', 'peer_host', 'peer_port', 'user'])
      assert.deepEqual((await sessions(node, [`--peer_port=${localPort(other)}`])).map(r => r.client_id), ['gamma-2'])
      assert.deepEqual((await sessions(node, ['--topic=f/1', '--client_id'])), [{ client_id: 'gamma' }])
      assert.deepEqual((await sessions(node, ['--client_id=~^gamma', '--limit=1'])).length, 1)
      assert.deepEqual(await sessions(node, ['--client_id', '--node', '--client_id=gamma']), [{ client_id: 'gamma', node: node.nodename }])

      const unknown = await node.admin(['session', 'show', '--colour'])
      assert.equal(unknown.code, 1)
      assert.match(unknown.stderr, /Unknown field --colour/)
      const badRegex = await node.admin(['session', 'show', '--client_id=~('])
      assert.equal(badRegex.code, 1)
      assert.match(badRegex.stderr, /Invalid regular expression in --client_id=~\(/)
      const badLimit = await node.admin(['session', 'show', '--limit=none'])
      assert.equal(badLimit.code, 1)
      assert.match(badLimit.stderr, /Invalid --limit=none/)
    } finally {
      await endAll(gamma, other)
    }
  })

  it('lists an offline persistent session with is_online=false, its subscription and queued messages', async () => {
    const sleeper = await connect(node.mqttUrl, { clientId: 'sleeper', clean: false })
    await sleeper.subscribeAsync('sleep/#', { qos: 1 })
    await sleeper.endAsync()
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('sleep/a', '1', { qos: 1 })
    await pub.publishAsync('sleep/b', '2', { qos: 1 })
    await pub.endAsync()
    assert.deepEqual(await sessions(node, ['--client_id=sleeper']), [
      { client_id: 'sleeper', is_online: false, mountpoint: '', peer_host: null, peer_port: null, user: null }
    ])
    assert.deepEqual(await sessions(node, ['--client_id=sleeper', '--topic', '--offline_messages', '--clean_session']), [
      { clean_session: false, offline_messages: 2, topic: 'sleep/#' }
    ])
    assert.deepEqual((await sessions(node, ['--is_online=false'])).map(r => r.client_id), ['sleeper'])
  })

  it('disconnect: Done, the client is gone (v5: DISCONNECT 0x98); an unknown client id exits 1', async () => {
    const delta = await connect(node.mqttUrl, { clientId: 'delta', protocolVersion: 5 })
    let reason: number | undefined
    let closed = false
    delta.on('disconnect', packet => { reason = packet.reasonCode })
    delta.on('close', () => { closed = true })
    const r = await node.admin(['session', 'disconnect', 'client-id=delta'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'Done\n')
    await waitFor(() => closed, 5000, 'the client to be disconnected')
    assert.equal(reason, 0x98)
    assert.deepEqual(await sessions(node, ['--client_id=delta']), [])
    delta.end(true)

    const unknown = await node.admin(['session', 'disconnect', 'client-id=nobody'])
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stderr, 'No session found for client-id "nobody"\n')
    const missing = await node.admin(['session', 'disconnect'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /client-id/)
  })

  it('disconnect keeps a persistent session; --cleanup deletes its subscriptions and queued messages', async () => {
    const eps = await connect(node.mqttUrl, { clientId: 'eps', clean: false })
    await eps.subscribeAsync('eps/#', { qos: 1 })
    const r = await node.admin(['session', 'disconnect', 'client-id=eps'])
    assert.equal(r.code, 0, r.stderr)
    eps.end(true)
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('eps/queued', 'q', { qos: 1 })
    assert.deepEqual(await sessions(node, ['--client_id=eps', '--is_online', '--offline_messages', '--topic']), [
      { is_online: false, offline_messages: 1, topic: 'eps/#' }
    ])
    const cleanup = await node.admin(['session', 'disconnect', 'client-id=eps', '--cleanup'])
    assert.equal(cleanup.code, 0, cleanup.stderr)
    assert.equal(cleanup.stdout, 'Done\n')
    assert.deepEqual(await sessions(node, ['--client_id=eps']), [])
    // back again: nothing queued is delivered, only what comes after a new subscription
    const back = await connect(node.mqttUrl, { clientId: 'eps', clean: false })
    const got = collect(back)
    await back.subscribeAsync('eps/#', { qos: 1 })
    await pub.publishAsync('eps/after', 'a', { qos: 1 })
    await waitFor(() => got.length > 0, 5000, 'the message after the new subscription')
    assert.deepEqual(got.map(m => m.topic), ['eps/after'])
    await back.endAsync()
    await node.admin(['session', 'disconnect', 'client-id=eps', '--cleanup'])
    await pub.endAsync()
  })
})

