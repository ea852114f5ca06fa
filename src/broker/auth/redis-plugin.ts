// vmq_diversity with auth_redis: CONNECT is checked against a JSON value in
// Redis, and the ACLs of that value decide every PUBLISH and SUBSCRIBE of the
// connection (VERNEMQ.md §5).
//   no username or no password, no key, wrong password → refuse CONNACK 4
//   value unusable (bad JSON, wrong types, not a bcrypt hash) → refuse CONNACK 5, logged with the key
//   Redis unreachable, slow or refusing the command → refuse CONNACK 3, logged once per outage
//   publish/subscribe: an ACL of the login allows → ok, else deny (definitive)
// Redis is read only at login; the ACLs live with the connection until it goes.
import { Redis } from 'ioredis'
import { verifyPassword } from '../../passwd/hash.js'
import { allowsPublish, allowsSubscribe, bindAcls, parseRecord, redisKey, type RedisAcl } from './redis-acl.js'
import type { AccessVerdict, AuthPlugin, ClientInfo, PublishRequest, RegisterVerdict, SubscribeRequest } from './types.js'

export type LogLevel = 'info' | 'warn' | 'error' | 'debug'

export interface RedisPluginOptions {
  /** vmq_diversity.redis.* */
  host: string
  port: number
  password: string
  user: string
  database: number
  log: (level: LogLevel, msg: string) => void
  /** longest wait for a Redis reply (and for a connection) before CONNACK 3; default 2000 */
  timeoutMs?: number
}

export const REDIS_HOOKS = [
  'auth_on_register',
  'auth_on_publish',
  'auth_on_subscribe',
  'auth_on_register_m5',
  'auth_on_publish_m5',
  'auth_on_subscribe_m5',
  'on_client_offline',
  'on_client_gone'
] as const

interface LoginAcls { publish: RedisAcl[], subscribe: RedisAcl[] }

/** The same message about the same key is logged at most this often. */
const REPEAT_LOG_MS = 60_000
/** Bound on the memory of what was logged. */
const MAX_REMEMBERED = 10_000

export class RedisAuthPlugin implements AuthPlugin {
  readonly name = 'vmq_diversity'
  readonly hooks: readonly string[] = REDIS_HOOKS

  private readonly options: RedisPluginOptions
  private readonly timeoutMs: number
  private redis: Redis | undefined
  private state: 'starting' | 'up' | 'down' = 'starting'
  private wasUp = false
  private closing = false
  /** ACLs of each logged-in connection; keyed by the connection when the caller names it */
  private readonly byConnection = new WeakMap<object, LoginAcls>()
  /** ... else by [mountpoint, client id], as VerneMQ does */
  private readonly byClient = new Map<string, LoginAcls>()
  private readonly lastLogged = new Map<string, number>()

  constructor (options: RedisPluginOptions) {
    this.options = options
    this.timeoutMs = options.timeoutMs ?? 2000
  }

  /** host:port of the Redis server, as logs name it */
  get address (): string {
    const { host, port } = this.options
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  }

  /** Connects; waits at most timeoutMs for Redis, then keeps trying in the background. */
  async start (): Promise<void> {
    if (this.redis !== undefined) return
    this.closing = false
    this.state = 'starting'
    const { host, port, user, password, database } = this.options
    const redis = new Redis({
      host,
      port,
      username: user === '' ? undefined : user,
      password: password === '' ? undefined : password,
      db: database,
      lazyConnect: true,
      // Fail at once while disconnected: the client gets CONNACK 3 instead of waiting.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      // Never give up; retry quickly at first, then every second.
      retryStrategy: times => Math.min(times * 100, 1000)
    })
    this.redis = redis
    redis.on('ready', () => this.markUp())
    redis.on('error', (err: Error) => this.markDown(describeError(err)))
    redis.on('close', () => { if (!this.closing) this.markDown('connection closed') })
    const settled = new Promise<void>(resolve => {
      const timer = setTimeout(resolve, this.timeoutMs)
      const done = (): void => { clearTimeout(timer); resolve() }
      redis.once('ready', done)
      redis.once('error', done)
    })
    redis.connect().catch(() => {}) // failures arrive as 'error' events; ioredis keeps retrying
    await settled
    if (this.state === 'starting') this.markDown(`no connection within ${this.timeoutMs} ms`)
  }

  close (): void {
    this.closing = true
    this.redis?.disconnect()
    this.redis = undefined
    this.byClient.clear()
  }

  authOnRegister = async (client: ClientInfo, password: Buffer | undefined): Promise<RegisterVerdict> => {
    if (client.username === undefined || password === undefined) return invalidCredentials
    let found: { key: string, text: string } | undefined
    try {
      found = await this.lookup(client.mountpoint, client.clientId, client.username)
    } catch (err) {
      if (err instanceof WrongType) return this.unusable(client, err.key, 'the key does not hold a string value')
      this.markDown(describeError(err as Error))
      return { kind: 'refuse', code: 3, reason: 'server_unavailable' }
    }
    if (found === undefined) return invalidCredentials
    const record = parseRecord(found.text)
    if ('error' in record) return this.unusable(client, found.key, record.error)
    for (const note of record.notes) this.logLimited('warn', `vmq_diversity: Redis key ${found.key}: ${note}`)
    if (!(await verifyPassword(record.hash, password))) return invalidCredentials
    const values = { u: client.username, c: client.clientId, m: client.mountpoint }
    this.remember(client, { publish: bindAcls(record.publish, values), subscribe: bindAcls(record.subscribe, values) })
    return { kind: 'ok' }
  }

  authOnPublish = (client: ClientInfo, req: PublishRequest): AccessVerdict => {
    const acls = this.aclsOf(client)
    return acls !== undefined && allowsPublish(acls.publish, req) ? 'ok' : 'deny'
  }

  authOnSubscribe = (client: ClientInfo, req: SubscribeRequest): AccessVerdict => {
    const acls = this.aclsOf(client)
    return acls !== undefined && allowsSubscribe(acls.subscribe, req) ? 'ok' : 'deny'
  }

  onClientGone = (client: ClientInfo): void => {
    if (client.connection !== undefined) this.byConnection.delete(client.connection)
    else this.byClient.delete(clientKey(client))
  }

  /** Logged-in clients whose ACLs are held by [mountpoint, client id] (callers that do not name the connection). */
  get cachedClients (): number { return this.byClient.size }

  /** GET the client's key, then the key with client id `*`. */
  private async lookup (mountpoint: string, clientId: string, username: string): Promise<{ key: string, text: string } | undefined> {
    const keys = [redisKey(mountpoint, clientId, username)]
    if (clientId !== '*') keys.push(redisKey(mountpoint, '*', username))
    for (const key of keys) {
      const text = await this.get(key)
      if (text !== null) return { key, text }
    }
    return undefined
  }

  private async get (key: string): Promise<string | null> {
    const redis = this.redis
    if (redis === undefined) throw new Error('the plugin is stopped')
    try {
      const text = await redis.get(key)
      this.markUp()
      return text
    } catch (err) {
      if ((err as Error).message.startsWith('WRONGTYPE')) {
        this.markUp()
        throw new WrongType(key)
      }
      throw err
    }
  }

  private unusable (client: ClientInfo, key: string, problem: string): RegisterVerdict {
    this.logLimited('warn', `vmq_diversity: refusing client ${JSON.stringify(client.clientId)}: Redis key ${key}: ${problem}`)
    return { kind: 'refuse', code: 5, reason: 'not_authorized' }
  }

  private remember (client: ClientInfo, acls: LoginAcls): void {
    if (client.connection !== undefined) this.byConnection.set(client.connection, acls)
    else this.byClient.set(clientKey(client), acls)
  }

  private aclsOf (client: ClientInfo): LoginAcls | undefined {
    return client.connection !== undefined ? this.byConnection.get(client.connection) : this.byClient.get(clientKey(client))
  }

  private markUp (): void {
    if (this.state === 'up' || this.closing) return
    this.options.log('info', this.wasUp
      ? `vmq_diversity: Redis at ${this.address} is reachable again; logins are checked again`
      : `vmq_diversity: connected to Redis at ${this.address}`)
    this.state = 'up'
    this.wasUp = true
  }

  private markDown (reason: string): void {
    if (this.state === 'down' || this.closing) return
    this.state = 'down'
    this.options.log('error', `vmq_diversity: Redis at ${this.address} is unavailable (${reason}); ` +
      'logins get CONNACK 3 (server unavailable) until it is back')
  }

  /** Logs a message about a key, but not the same one again within REPEAT_LOG_MS. */
  private logLimited (level: LogLevel, msg: string): void {
    const now = Date.now()
    const last = this.lastLogged.get(msg)
    if (last !== undefined && now - last < REPEAT_LOG_MS) return
    if (this.lastLogged.size >= MAX_REMEMBERED) this.lastLogged.clear()
    this.lastLogged.set(msg, now)
    this.options.log(level, msg)
  }
}

const invalidCredentials: RegisterVerdict = { kind: 'refuse', code: 4, reason: 'invalid_credentials' }

class WrongType extends Error {
  constructor (readonly key: string) { super(`WRONGTYPE ${key}`) }
}

function clientKey (client: ClientInfo): string {
  return JSON.stringify([client.mountpoint, client.clientId])
}

/** Node reports a refused connection to a name with several addresses as an AggregateError with no message. */
function describeError (err: Error): string {
  if (err.message !== '') return err.message
  const inner = (err as Partial<AggregateError>).errors
  if (Array.isArray(inner) && inner.length > 0) return inner.map(e => describeError(e as Error)).join('; ')
  return (err as NodeJS.ErrnoException).code ?? err.name
}
