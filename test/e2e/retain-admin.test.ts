import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { collect, connect } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

type Row = Record<string, string | number | boolean | null>

async function retained (node: TestNode, args: string[] = []): Promise<Row[]> {
  const r = await node.admin(['retain', 'show', ...args, '--format=json'])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { table: Row[] }).table
}

async function ok (node: TestNode, args: string[]): Promise<string> {
  const r = await node.admin(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

describe('retain show / delete on one node', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ conf: OPEN_ACCESS })
    const pub = await connect(node.mqttUrl)
    await pub.publishAsync('rs/a/1', 'one', { qos: 1, retain: true })
    await pub.publishAsync('rs/b/1', 'two', { qos: 1, retain: true })
    await pub.publishAsync('rs/a/2', 'three', { qos: 1, retain: true })
    await pub.endAsync()
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('shows payload and topic by default, as a table and as JSON', async () => {
    const human = await ok(node, ['retain', 'show'])
    assert.equal(human, [
      '+---------+--------+',
      '| payload | topic  |',
      '+---------+--------+',
      '| one     | rs/a/1 |',
      '+---------+--------+',
      '| three   | rs/a/2 |',
      '+---------+--------+',
      '| two     | rs/b/1 |',
      '+---------+--------+',
      ''
    ].join('\n'))
    assert.deepEqual(await retained(node), [
      { payload: 'one', topic: 'rs/a/1' }, { payload: 'three', topic: 'rs/a/2' }, { payload: 'two', topic: 'rs/b/1' }
    ])
  })

  it('filters by topic with MQTT wildcards and by exact payload; --limit; extra columns', async () => {
    assert.deepEqual((await retained(node, ['--topic=rs/a/+'])).map(r => r.topic), ['rs/a/1', 'rs/a/2'])
    assert.deepEqual((await retained(node, ['--topic=rs/#'])).length, 3)
    assert.deepEqual(await retained(node, ['--payload=two']), [{ payload: 'two', topic: 'rs/b/1' }])
    assert.deepEqual(await retained(node, ['--payload=tw']), [])
    assert.deepEqual((await retained(node, ['--limit=2'])).length, 2)
    assert.deepEqual(await retained(node, ['--topic', '--mountpoint', '--topic=rs/b/#']), [{ mountpoint: '', topic: 'rs/b/1' }])
  })

  it('delete: Done, and the message is gone; no topic or a wildcard: "No valid topic given." exit 1', async () => {
    assert.equal(await ok(node, ['retain', 'delete', '-t', 'rs/a/1']), 'Done\n')
    assert.deepEqual((await retained(node)).map(r => r.topic), ['rs/a/2', 'rs/b/1'])
    const sub = await connect(node.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('rs/a/+', { qos: 1 })
    await waitFor(() => got.length >= 1, 5000, 'the remaining retained message')
    assert.deepEqual(got.map(m => m.topic), ['rs/a/2'])
    await sub.endAsync()
    for (const args of [['retain', 'delete'], ['retain', 'delete', '--topic=rs/#']]) {
      const r = await node.admin(args)
      assert.equal(r.code, 1)
      assert.equal(r.stderr, 'No valid topic given.\n')
    }
  })
})

describe('retain delete in a two-node cluster', () => {
  it('deletes the retained message on both nodes', async () => {
    const a = await startNode({ conf: OPEN_ACCESS })
    const b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] })
    try {
      await waitFor(async () => {
        const r = await a.admin(['cluster', 'show', '--format=json'])
        return (JSON.parse(r.stdout).table as Array<{ Running: boolean }>).filter(m => m.Running).length === 2
      }, 10000, 'the cluster')
      const pub = await connect(a.mqttUrl)
      await pub.publishAsync('cl/ret', 'kept', { qos: 1, retain: true })
      await pub.endAsync()
      assert.deepEqual(await retained(b), [{ payload: 'kept', topic: 'cl/ret' }])
      assert.equal(await ok(b, ['retain', 'delete', '--topic=cl/ret']), 'Done\n')
      assert.deepEqual(await retained(b), [])
      assert.deepEqual(await retained(a), [])
    } finally {
      await a.stop()
      await b.stop()
      a.cleanup()
      b.cleanup()
    }
  })
})

