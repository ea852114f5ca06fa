import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import type { Redis } from 'ioredis'
import { RedisAuthPlugin, type LogLevel } from '../../../../src/broker/auth/redis-plugin.js'
import type { ClientInfo } from '../../../../src/broker/auth/types.js'
import { freePort } from '../../../e2e/helpers/free-port.js'
import { RedisServer } from '../../../e2e/helpers/redis.js'

const PASSWORD = Buffer.from('pw')
const publish = (topic: string): { topic: string, qos: 0, retain: boolean, payloadSize: number } => ({ topic, qos: 0, retain: false, payloadSize: 1 })

function plugin (port: number, logs: Array<[LogLevel, string]>, timeoutMs = 2000): RedisAuthPlugin {
  return new RedisAuthPlugin({ host: '127.0.0.1', port, password: '', user: '', database: 0, timeoutMs, log: (level, msg) => logs.push([level, msg]) })
}

describe('RedisAuthPlugin against a real redis-server', () => {
  let server: RedisServer
  let db: Redis
  let auth: RedisAuthPlugin
  const logs: Array<[LogLevel, string]> = []

  before(async () => {
    server = await RedisServer.start()
    db = server.client()
    await db.set('["","dev","ann"]', JSON.stringify({ passhash: bcrypt.hashSync('pw', 4), publish_acl: [{ pattern: 'ann/%c' }] }))
    auth = plugin(server.port, logs)
    await auth.start()
  })
  after(async () => {
    auth.close()
    db.disconnect()
    await server.stop()
  })

  it('logs the connection', () => {
    assert.deepEqual(logs, [['info', `vmq_diversity: connected to Redis at 127.0.0.1:${server.port}`]])
  })

  it('refuses a client without username or password with 4, before asking Redis', async () => {
    assert.deepEqual(await auth.authOnRegister({ clientId: 'dev', username: undefined, mountpoint: '' }, PASSWORD), { kind: 'refuse', code: 4, reason: 'invalid_credentials' })
    assert.deepEqual(await auth.authOnRegister({ clientId: 'dev', username: 'ann', mountpoint: '' }, undefined), { kind: 'refuse', code: 4, reason: 'invalid_credentials' })
  })

  it('without a connection object, keeps the ACLs by [mountpoint, client id] until the client is gone', async () => {
    const ann: ClientInfo = { clientId: 'dev', username: 'ann', mountpoint: '' }
    assert.equal(auth.authOnPublish(ann, publish('ann/dev')), 'deny', 'nothing before login')
    assert.deepEqual(await auth.authOnRegister(ann, PASSWORD), { kind: 'ok' })
    assert.equal(auth.cachedClients, 1)
    assert.equal(auth.authOnPublish(ann, publish('ann/dev')), 'ok')
    assert.equal(auth.authOnPublish(ann, publish('ann/other')), 'deny')
    assert.equal(auth.authOnSubscribe(ann, { topic: 'ann/dev', qos: 0 }), 'deny', 'no subscribe_acl: nothing')
    assert.equal(auth.authOnPublish({ ...ann, mountpoint: 'mp' }, publish('ann/dev')), 'deny', 'another mountpoint is another client')
    auth.onClientGone(ann)
    assert.equal(auth.cachedClients, 0)
    assert.equal(auth.authOnPublish(ann, publish('ann/dev')), 'deny')
  })

  it('with connection objects, an old connection going does not drop the new login', async () => {
    const old: ClientInfo = { clientId: 'dev', username: 'ann', mountpoint: '', connection: {} }
    const fresh: ClientInfo = { ...old, connection: {} }
    assert.deepEqual(await auth.authOnRegister(old, PASSWORD), { kind: 'ok' })
    assert.deepEqual(await auth.authOnRegister(fresh, PASSWORD), { kind: 'ok' })
    auth.onClientGone(old)
    assert.equal(auth.authOnPublish(old, publish('ann/dev')), 'deny')
    assert.equal(auth.authOnPublish(fresh, publish('ann/dev')), 'ok')
    assert.equal(auth.cachedClients, 0)
  })

  it('logs a problem with a key once a minute, not on every login', async () => {
    await db.set('["","dev","bad"]', '[]')
    const before = logs.length
    const bad: ClientInfo = { clientId: 'dev', username: 'bad', mountpoint: '' }
    for (let i = 0; i < 3; i++) assert.deepEqual(await auth.authOnRegister(bad, PASSWORD), { kind: 'refuse', code: 5, reason: 'not_authorized' })
    assert.deepEqual(logs.slice(before), [['warn', 'vmq_diversity: refusing client "dev": Redis key ["","dev","bad"]: value is an array, expected a JSON object']])
  })
})

describe('RedisAuthPlugin without Redis', () => {
  it('starts within the timeout, refuses logins with 3 and logs the outage once', async () => {
    const logs: Array<[LogLevel, string]> = []
    const port = await freePort()
    const auth = plugin(port, logs, 500)
    const started = Date.now()
    await auth.start()
    assert.ok(Date.now() - started < 1500, `start took ${Date.now() - started} ms`)
    try {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await auth.authOnRegister({ clientId: 'c', username: 'u', mountpoint: '' }, PASSWORD), { kind: 'refuse', code: 3, reason: 'server_unavailable' })
      }
      assert.equal(logs.length, 1, JSON.stringify(logs))
      assert.equal(logs[0][0], 'error')
      assert.match(logs[0][1], new RegExp(`^vmq_diversity: Redis at 127\\.0\\.0\\.1:${port} is unavailable \\(.*ECONNREFUSED.*\\); logins get CONNACK 3`))
    } finally {
      auth.close()
    }
  })
})
