import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { collect, connackCode, connect, endAll, grantedCodes, grantedQos } from './helpers/mqtt.js'
import { run, startNode, tempDir, vmq, waitFor, type TestNode } from './helpers/processes.js'

const ACL = [
  'topic bar',
  'topic write foo',
  'topic read all',
  '',
  'user john',
  'topic foo',
  'topic read baz',
  'topic write all'
].join('\n')

async function addUser (file: string, user: string, password: string, create = false): Promise<void> {
  const r = await vmq(['passwd', ...(create ? ['-c'] : []), file, user], { input: `${password}\n${password}\n` })
  assert.equal(r.code, 0, r.stderr)
}

/** Whether a publish by `client` reaches a subscriber allowed to read everything. */
async function publishDelivered (node: TestNode, client: MqttClient, topic: string, watcher: MqttClient, seen: Array<{ topic: string }>): Promise<boolean> {
  const before = seen.length
  client.publish(topic, 'x', { qos: 0 })
  // a marker the watcher may read, published after: once it arrives, the first publish would have too
  await new Promise<void>((resolve, reject) => { watcher.publish('marker', 'm', { qos: 1 }, err => { if (err !== undefined && err !== null) reject(err); else resolve() }) })
  await waitFor(() => seen.slice(before).some(m => m.topic === 'marker'), 5000, 'the marker')
  return seen.slice(before).some(m => m.topic === topic)
}

describe('password file and ACL plugins', () => {
  let node: TestNode
  let dir: string
  let passwd: string
  let acl: string
  before(async () => {
    dir = tempDir()
    passwd = join(dir, 'vmq.passwd')
    acl = join(dir, 'vmq.acl')
    await addUser(passwd, 'john', 'secret', true)
    await addUser(passwd, 'watcher', 'w')
    writeFileSync(acl, ACL + '\nuser watcher\ntopic #\n')
    node = await startNode({
      conf: [`vmq_passwd.password_file = ${passwd}`, `vmq_acl.acl_file = ${acl}`, 'vmq_passwd.password_reload_interval = 1', 'vmq_acl.acl_reload_interval = 1']
    })
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('CONNECT: right password 0, wrong password 4, unknown user or no credentials 5', async () => {
    assert.equal(await connackCode(node.mqttUrl, { username: 'john', password: 'secret' }), 0)
    assert.equal(await connackCode(node.mqttUrl, { username: 'john', password: 'wrong' }), 4)
    assert.equal(await connackCode(node.mqttUrl, { username: 'nobody', password: 'x' }), 5)
    assert.equal(await connackCode(node.mqttUrl), 5)
  })

  it('picks up an added and a removed user within one reload interval', async () => {
    await addUser(passwd, 'late', 'pw')
    await waitFor(async () => await connackCode(node.mqttUrl, { username: 'late', password: 'pw' }) === 0, 5000, 'the new user to be accepted')
    const r = await vmq(['passwd', '-D', passwd, 'late'])
    assert.equal(r.code, 0, r.stderr)
    await waitFor(async () => await connackCode(node.mqttUrl, { username: 'late', password: 'pw' }) === 5, 5000, 'the removed user to be refused')
  })

  it('accepts files written by mosquitto_passwd ($7$ and $6$)', async () => {
    const other = join(dir, 'mosquitto.passwd')
    let r = await run('mosquitto_passwd', ['-c', '-b', other, 'pbkdf', 'pw7'])
    assert.equal(r.code, 0, r.stderr)
    r = await run('mosquitto_passwd', ['-H', 'sha512', '-b', other, 'sha', 'pw6'])
    assert.equal(r.code, 0, r.stderr)
    const set = await node.admin(['set', `vmq_passwd.password_file=${other}`])
    assert.equal(set.code, 0, set.stderr)
    assert.equal(await connackCode(node.mqttUrl, { username: 'pbkdf', password: 'pw7' }), 0)
    assert.equal(await connackCode(node.mqttUrl, { username: 'sha', password: 'pw6' }), 0)
    assert.equal(await connackCode(node.mqttUrl, { username: 'john', password: 'secret' }), 5, 'the old file is no longer used')
    await node.admin(['set', `vmq_passwd.password_file=${passwd}`])
    assert.equal(await connackCode(node.mqttUrl, { username: 'john', password: 'secret' }), 0)
  })

  it('denied SUBSCRIBE gets 0x80 and the connection stays up', async () => {
    const john = await connect(node.mqttUrl, { username: 'john', password: 'secret' })
    assert.equal(await grantedQos(john, 'baz'), 0)
    assert.equal(await grantedQos(john, 'forbidden'), 128)
    assert.equal(john.connected, true)
    await john.endAsync(true)
  })

  it('a SUBSCRIBE with one denied filter is refused as a whole (0x80 for every filter)', async () => {
    const john = await connect(node.mqttUrl, { username: 'john', password: 'secret' })
    assert.deepEqual(await grantedCodes(john, { baz: { qos: 1 }, forbidden: { qos: 1 } }), [128, 128])
    assert.deepEqual((await john.subscribeAsync({ baz: { qos: 1 }, foo: { qos: 1 } })).map(x => x.qos), [1, 1])
    await john.endAsync(true)
  })

  it('denied PUBLISH disconnects an MQTT 3.1.1 client', async () => {
    const john = await connect(node.mqttUrl, { username: 'john', password: 'secret' })
    let closed = false
    john.on('close', () => { closed = true })
    john.publish('baz', 'not allowed', { qos: 0 })
    await waitFor(() => closed, 5000, 'the disconnect')
    john.end(true)
  })
})

describe('the ACL example, line by line (anonymous clients and john)', () => {
  let node: TestNode
  let watcher: MqttClient
  let seen: Array<{ topic: string }>
  before(async () => {
    const dir = tempDir()
    const passwd = join(dir, 'vmq.passwd')
    await addUser(passwd, 'john', 'secret', true)
    await addUser(passwd, 'watcher', 'w')
    const acl = join(dir, 'vmq.acl')
    writeFileSync(acl, ACL + '\nuser watcher\ntopic #\n')
    node = await startNode({ conf: ['allow_anonymous = on', `vmq_passwd.password_file = ${passwd}`, `vmq_acl.acl_file = ${acl}`] })
    watcher = await connect(node.mqttUrl, { username: 'watcher', password: 'w' })
    seen = collect(watcher)
    await watcher.subscribeAsync('#')
  })
  after(async () => { await watcher.endAsync(true); await node.stop(); node.cleanup() })

  const cases: Array<{ who: string, topic: string, pub: boolean, sub: boolean }> = [
    { who: 'anonymous', topic: 'bar', pub: true, sub: true },
    { who: 'anonymous', topic: 'foo', pub: true, sub: false },
    { who: 'anonymous', topic: 'all', pub: false, sub: true },
    { who: 'anonymous', topic: 'baz', pub: false, sub: false },
    { who: 'john', topic: 'foo', pub: true, sub: true },
    { who: 'john', topic: 'baz', pub: false, sub: true },
    { who: 'john', topic: 'all', pub: true, sub: true },
    { who: 'john', topic: 'bar', pub: true, sub: true }
  ]
  for (const c of cases) {
    it(`${c.who}: ${c.pub ? 'may' : 'may not'} publish and ${c.sub ? 'may' : 'may not'} subscribe to ${c.topic}`, async () => {
      const opts = c.who === 'john' ? { username: 'john', password: 'secret' } : {}
      const client = await connect(node.mqttUrl, opts)
      assert.equal(await grantedQos(client, c.topic), c.sub ? 0 : 128)
      const delivered = await publishDelivered(node, client, c.topic, watcher, seen)
      assert.equal(delivered, c.pub)
      await endAll(client)
    })
  }
})
