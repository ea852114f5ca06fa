import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import type { Redis } from 'ioredis'
import type { IClientOptions, MqttClient } from 'mqtt'
import { collect, connackCode, connect, endAll, grantedQos, type Received } from './helpers/mqtt.js'
import { startNode, waitFor, type TestNode } from './helpers/processes.js'
import { RedisServer } from './helpers/redis.js'

/** One Redis auth entry: key [mountpoint, client_id, username], value as vmq_diversity reads it. */
async function setUser (db: Redis, clientId: string, username: string, value: Record<string, unknown>): Promise<void> {
  await db.set(JSON.stringify(['', clientId, username]), JSON.stringify(value))
}

function hash (password: string, prefix: '$2a$' | '$2b$' = '$2b$'): string {
  return prefix + bcrypt.hashSync(password, 4).slice(4)
}

function closed (client: MqttClient): () => boolean {
  let gone = false
  client.on('close', () => { gone = true })
  return () => gone
}

/** Log lines of the node that contain `text`. */
function logLines (node: TestNode, text: string): string[] {
  return node.stdout.split('\n').filter(line => line.includes(text))
}

describe('vmq_diversity Redis authentication and authorization', () => {
  let redis: RedisServer
  let db: Redis
  let node: TestNode
  let watcher: MqttClient
  let seen: Received[]

  const login = (clientId: string, username: string, password: string, extra: IClientOptions = {}): IClientOptions =>
    ({ clientId, username, password, ...extra })

  before(async () => {
    redis = await RedisServer.start()
    db = redis.client()
    await setUser(db, 'watcher', 'watcher', { passhash: hash('w'), subscribe_acl: [{ pattern: '#' }], publish_acl: [{ pattern: 'marker' }] })
    node = await startNode({
      conf: [
        'plugins.vmq_passwd = off',
        'plugins.vmq_acl = off',
        'plugins.vmq_diversity = on',
        'vmq_diversity.auth_redis.enabled = on',
        'vmq_diversity.redis.host = 127.0.0.1',
        `vmq_diversity.redis.port = ${redis.port}`
      ]
    })
    watcher = await connect(node.mqttUrl, login('watcher', 'watcher', 'w'))
    seen = collect(watcher)
    await watcher.subscribeAsync('#', { qos: 1 })
  })
  after(async () => {
    await endAll(watcher)
    await node.stop()
    node.cleanup()
    db.disconnect()
    await redis.stop()
  })

  /** Publishes as `client`, then a marker as the watcher: true when the first arrived before the marker. */
  async function delivered (client: MqttClient, topic: string, payload: string, opts: { qos?: 0 | 1 | 2, retain?: boolean } = {}): Promise<boolean> {
    const before = seen.length
    let done = false
    client.publish(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false }, () => { done = true })
    // Two connections are not ordered with each other: with QoS 1/2, wait until the broker
    // acknowledged (it has routed the message) or refused (closed) it before the marker goes.
    if ((opts.qos ?? 0) > 0) await waitFor(() => done || !client.connected, 5000, `the broker's answer to ${topic}`)
    await watcher.publishAsync('marker', 'm', { qos: 1 })
    await waitFor(() => seen.slice(before).some(m => m.topic === 'marker'), 5000, 'the marker')
    return seen.slice(before).some(m => m.topic === topic)
  }

  it('logs in with $2b$ and $2a$ hashes; wrong password, unknown key, no username or no password → CONNACK 4', async () => {
    await setUser(db, 'c-2b', 'user-2b', { passhash: hash('pw-b', '$2b$') })
    await setUser(db, 'c-2a', 'user-2a', { passhash: hash('pw-a', '$2a$') })
    assert.equal(await connackCode(node.mqttUrl, login('c-2b', 'user-2b', 'pw-b')), 0)
    assert.equal(await connackCode(node.mqttUrl, login('c-2a', 'user-2a', 'pw-a')), 0)
    assert.equal(await connackCode(node.mqttUrl, login('c-2b', 'user-2b', 'wrong')), 4)
    assert.equal(await connackCode(node.mqttUrl, login('other-client', 'user-2b', 'pw-b')), 4, 'the key includes the client id')
    assert.equal(await connackCode(node.mqttUrl, login('c-2b', 'nobody', 'pw-b')), 4)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'c-2b' }), 4)
    assert.equal(await connackCode(node.mqttUrl, { clientId: 'c-2b', username: 'user-2b' }), 4)
  })

  it('falls back to the key with client id "*"; a specific key wins over it', async () => {
    await setUser(db, '*', 'fleet', { passhash: hash('any') })
    await setUser(db, 'special', 'fleet', { passhash: hash('own') })
    assert.equal(await connackCode(node.mqttUrl, login('car-1', 'fleet', 'any')), 0)
    assert.equal(await connackCode(node.mqttUrl, login('car-2', 'fleet', 'any')), 0)
    assert.equal(await connackCode(node.mqttUrl, login('special', 'fleet', 'own')), 0)
    assert.equal(await connackCode(node.mqttUrl, login('special', 'fleet', 'any')), 4)
  })

  it('publish_acl: max_qos, allowed_retain and max_payload_size are enforced; a denied PUBLISH disconnects (3.1.1)', async () => {
    await setUser(db, 'sensor', 'sensor', {
      passhash: hash('s'),
      publish_acl: [{ pattern: 'limited/#', max_qos: 1, allowed_retain: false, max_payload_size: 5 }, { pattern: 'free/%u' }]
    })
    const ok = await connect(node.mqttUrl, login('sensor', 'sensor', 's'))
    assert.equal(await delivered(ok, 'limited/a', '12345', { qos: 1 }), true)
    assert.equal(await delivered(ok, 'free/sensor', 'anything at all', { qos: 2, retain: true }), true)
    assert.equal(ok.connected, true)
    await endAll(ok)
    const denied: Array<[string, string, { qos?: 0 | 1 | 2, retain?: boolean }]> = [
      ['limited/a', 'x', { qos: 2 }],
      ['limited/a', 'x', { retain: true }],
      ['limited/a', '123456', {}],
      ['free/other', 'x', {}],
      ['elsewhere', 'x', {}]
    ]
    for (const [topic, payload, opts] of denied) {
      const client = await connect(node.mqttUrl, login('sensor', 'sensor', 's'))
      const isClosed = closed(client)
      assert.equal(await delivered(client, topic, payload, opts), false, `${topic} ${JSON.stringify(opts)} must not be delivered`)
      await waitFor(isClosed, 5000, `the disconnect after publishing to ${topic} ${JSON.stringify(opts)}`)
      await endAll(client)
    }
  })

  it('subscribe_acl with %u: own topics granted, others refused with 0x80, connection stays', async () => {
    await setUser(db, 'phone', 'alice', { passhash: hash('a'), subscribe_acl: [{ pattern: 'users/%u/#', max_qos: 1 }] })
    const alice = await connect(node.mqttUrl, login('phone', 'alice', 'a'))
    assert.equal(await grantedQos(alice, 'users/alice/inbox', 1), 1)
    assert.equal(await grantedQos(alice, 'users/alice/inbox', 2), 128, 'above max_qos')
    assert.equal(await grantedQos(alice, 'users/bob/inbox'), 128)
    assert.equal(await grantedQos(alice, 'users/+/inbox'), 128)
    assert.equal(alice.connected, true)
    await endAll(alice)
  })

  it('ACLs are read at login: a client keeps them while connected, and a takeover keeps the new login\'s ACLs', async () => {
    await setUser(db, 'tablet', 'bob', { passhash: hash('b'), subscribe_acl: [{ pattern: 'users/%u/#' }] })
    const first = await connect(node.mqttUrl, login('tablet', 'bob', 'b'))
    const firstClosed = closed(first)
    const second = await connect(node.mqttUrl, login('tablet', 'bob', 'b'))
    await waitFor(firstClosed, 5000, 'the first connection to be taken over')
    await db.del('["","tablet","bob"]')
    assert.equal(await grantedQos(second, 'users/bob/x'), 0)
    assert.equal(await grantedQos(second, 'users/alice/x'), 128)
    await endAll(first, second)
    assert.equal(await connackCode(node.mqttUrl, login('tablet', 'bob', 'b')), 4, 'the deleted key counts at the next login')
  })

  it('refuses with CONNACK 5 a value it cannot use, and the log names the key', async () => {
    await db.set('["","broken","json"]', '{"passhash": ')
    await setUser(db, 'broken', 'types', { passhash: hash('t'), publish_acl: [{ pattern: 'a', max_qos: 'high' }] })
    await setUser(db, 'broken', 'plain', { passhash: 'not-a-hash' })
    await db.hset('["","broken","hash"]', 'passhash', hash('h'))
    assert.equal(await connackCode(node.mqttUrl, login('broken', 'json', 'x')), 5)
    assert.equal(await connackCode(node.mqttUrl, login('broken', 'types', 't')), 5)
    assert.equal(await connackCode(node.mqttUrl, login('broken', 'plain', 'x')), 5)
    assert.equal(await connackCode(node.mqttUrl, login('broken', 'hash', 'h')), 5)
    await waitFor(() => logLines(node, 'Redis key ["","broken","hash"]').length > 0, 5000, 'the log lines')
    assert.match(logLines(node, 'Redis key ["","broken","json"]')[0], /not valid JSON/)
    assert.match(logLines(node, 'Redis key ["","broken","types"]')[0], /publish_acl\[0\]\.max_qos is the string "high"/)
    assert.match(logLines(node, 'Redis key ["","broken","plain"]')[0], /not a bcrypt hash/)
    assert.match(logLines(node, 'Redis key ["","broken","hash"]')[0], /does not hold a string/)
  })

  it('Redis frozen: CONNACK 3 after the 2 s timeout; thawed: logins work again', async () => {
    await setUser(db, 'slow', 'slow', { passhash: hash('s') })
    redis.pause()
    try {
      const start = Date.now()
      assert.equal(await connackCode(node.mqttUrl, login('slow', 'slow', 's')), 3)
      const elapsed = Date.now() - start
      assert.ok(elapsed < 4000, `CONNACK 3 took ${elapsed} ms`)
    } finally {
      redis.resume()
    }
    await waitFor(async () => await connackCode(node.mqttUrl, login('slow', 'slow', 's')) === 0, 10000, 'a login after Redis resumed')
  })

  it('Redis stopped: CONNACK 3 at once, one log line naming it, connected clients keep working; restarted: logins work again', async () => {
    await setUser(db, 'steady', 'steady', { passhash: hash('s'), publish_acl: [{ pattern: 'steady/#' }] })
    const steady = await connect(node.mqttUrl, login('steady', 'steady', 's'))
    const address = `Redis at 127.0.0.1:${redis.port} is unavailable`
    const loggedBefore = logLines(node, address).length
    db.disconnect()
    await redis.stop()
    for (let i = 0; i < 3; i++) {
      const start = Date.now()
      assert.equal(await connackCode(node.mqttUrl, login('steady', 'steady', 's')), 3)
      const elapsed = Date.now() - start
      assert.ok(elapsed < 1500, `CONNACK 3 took ${elapsed} ms`)
    }
    await waitFor(() => logLines(node, address).length > loggedBefore, 5000, 'the outage log line')
    assert.equal(logLines(node, address).length, loggedBefore + 1, 'one line per outage, not per CONNECT')
    assert.equal(await delivered(steady, 'steady/on', 'x'), true, 'the ACLs of a connected client stay in force')
    await endAll(steady)

    await redis.start()
    db = redis.client()
    await setUser(db, 'steady', 'steady', { passhash: hash('s') })
    await waitFor(async () => await connackCode(node.mqttUrl, login('steady', 'steady', 's')) === 0, 10000, 'a login after Redis came back')
    assert.ok(logLines(node, `Redis at 127.0.0.1:${redis.port} is reachable again`).length > 0, node.stdout)
  })
})
