// vmq_webhooks: VerneMQ's plugin hooks answered by HTTP endpoints. The auth
// hooks ask each endpoint of the hook in turn until one answers ok or refuses;
// an endpoint that fails (timeout, connection refused, not 200, not JSON)
// refuses, as in VerneMQ. The on_* hooks are notifications sent in the
// background through a bounded queue (notifier.ts): no endpoint can hold up a
// client or the node.
import type { HookName, WebhookSpec } from '../../config/webhooks.js'
import type { AuthPlugin, AuthStep, ClientEvent, ClientInfo, PublishOutcome, PublishRequest, RegisterVerdict, SubscribeOutcome, SubscribeRequest } from '../auth/types.js'
import { readAnswer, type AuthAnswer } from './answers.js'
import { AnswerCache } from './cache.js'
import { EndpointPools, type HttpAnswer, type PoolSettings } from './http.js'
import { Notifier } from './notifier.js'
import { WebhookRegistry } from './registry.js'
import { WebhookCounters } from './counters.js'
import { authBody, registerBody, publishBody, subscribeBody, eventBody, eventHook } from './bodies.js'
import { authModifiers, publishModifiers, registerModifiers } from './modifiers.js'

type Log = (level: 'info' | 'warn' | 'error' | 'debug', msg: string) => void

/** MQTT 5 reason codes an on_auth_m5 answer gives */
const SUCCESS = 0
const CONTINUE_AUTHENTICATION = 0x18

export class WebhooksPlugin implements AuthPlugin {
  readonly name = 'vmq_webhooks'
  readonly registry = new WebhookRegistry()
  readonly cache = new AnswerCache()
  private readonly pools: EndpointPools
  /** one queue per endpoint: a slow endpoint holds up only its own notifications */
  private readonly notifiers = new Map<string, Notifier>()
  private readonly failures = new Map<string, { loggedAt: number, unlogged: number }>()
  private readonly warned = new Set<string>()

  constructor (configured: readonly WebhookSpec[], pool: () => PoolSettings, private readonly log: Log, private readonly counters = new WebhookCounters()) {
    this.pools = new EndpointPools(pool)
    for (const spec of configured) this.registry.register(spec)
  }

  get hooks (): readonly string[] {
    return [...new Set(this.registry.all().map(s => s.hook))]
  }

  authorizes (): boolean {
    return ['auth_on_publish', 'auth_on_subscribe', 'auth_on_publish_m5', 'auth_on_subscribe_m5'].some(h => this.registry.has(h as HookName))
  }

  /** auth_on_register(_m5) answers may carry client_id and mountpoint */
  movesClients (): boolean {
    return this.registry.has('auth_on_register') || this.registry.has('auth_on_register_m5')
  }

  async authOnRegister (client: ClientInfo, password: Buffer | undefined): Promise<RegisterVerdict> {
    const hook: HookName = client.protocolVersion === 5 ? 'auth_on_register_m5' : 'auth_on_register'
    const answer = await this.ask(hook, registerBody(client, password, hook))
    if (answer.kind === 'next') return { kind: 'next' }
    if (answer.kind === 'error') return { kind: 'refuse', code: 5, reason: answer.reason }
    const checked = registerModifiers(hook, answer.modifiers)
    if (!checked.ok) {
      this.log('error', `${hook}: ${checked.problem}; client ${client.clientId} refused`)
      return { kind: 'refuse', code: 5, reason: 'invalid_modifiers' }
    }
    this.warnNoEffect(hook, checked.noEffect)
    return Object.keys(checked.value).length === 0 ? { kind: 'ok' } : { kind: 'ok', overrides: checked.value }
  }

  authorizePublish (client: ClientInfo, req: PublishRequest): Promise<PublishOutcome> | undefined {
    const hook: HookName = client.protocolVersion === 5 ? 'auth_on_publish_m5' : 'auth_on_publish'
    if (!this.registry.has(hook)) return undefined
    return this.ask(hook, spec => publishBody(client, req, hook, spec)).then(answer => {
      if (answer.kind === 'next') return { verdict: 'next' }
      if (answer.kind === 'error') return { verdict: 'deny', reason: answer.reason }
      const checked = publishModifiers(hook, answer.modifiers)
      if (!checked.ok) {
        this.log('error', `${hook}: ${checked.problem}; PUBLISH of ${client.clientId} to ${req.topic} refused`)
        return { verdict: 'deny', reason: 'invalid_modifiers' }
      }
      this.warnNoEffect(hook, checked.noEffect)
      return { verdict: 'ok', modifiers: checked.value }
    })
  }

  authorizeSubscribe (client: ClientInfo, subs: SubscribeRequest[]): Promise<SubscribeOutcome> | undefined {
    const hook: HookName = client.protocolVersion === 5 ? 'auth_on_subscribe_m5' : 'auth_on_subscribe'
    if (!this.registry.has(hook)) return undefined
    return this.ask(hook, subscribeBody(client, subs, hook)).then(answer => {
      if (answer.kind === 'next') return { verdict: 'next' }
      if (answer.kind === 'error') return { verdict: 'deny', reason: answer.reason }
      const topics = answer.modifiers.topics
      if (topics === undefined) return { verdict: 'ok' }
      const parsed = subscribeTopics(topics)
      if (parsed === undefined) return { verdict: 'deny', reason: 'invalid topics modifier' }
      return { verdict: 'ok', topics: parsed }
    })
  }

  /** on_auth_m5: reason_code 0 succeeds, 24 goes on with another AUTH round; anything else refuses. */
  enhancedAuth (client: ClientInfo, properties: Record<string, unknown>): Promise<AuthStep> | undefined {
    if (!this.registry.has('on_auth_m5')) return undefined
    return this.ask('on_auth_m5', authBody(client, properties)).then(answer => {
      if (answer.kind === 'next') return { kind: 'refuse', reason: 'no endpoint answered ok' }
      if (answer.kind === 'error') return { kind: 'refuse', reason: answer.reason }
      const checked = authModifiers(answer.modifiers)
      if (!checked.ok) {
        this.log('error', `on_auth_m5: ${checked.problem}; client ${client.clientId} refused`)
        return { kind: 'refuse', reason: 'invalid_modifiers' }
      }
      const { reasonCode, method, data } = checked.value
      if (reasonCode !== SUCCESS && reasonCode !== CONTINUE_AUTHENTICATION) return { kind: 'refuse', reason: `reason_code ${reasonCode}` }
      return { kind: reasonCode === SUCCESS ? 'success' : 'continue', method, data }
    })
  }

  listening (): boolean {
    return this.registry.notifies
  }

  onEvent (event: ClientEvent): void {
    const hook = eventHook(event)
    const specs = this.registry.endpoints(hook)
    for (const spec of specs) {
      const body = JSON.stringify(eventBody(event, hook, spec))
      this.notifier(spec.endpoint).push(async () => {
        const answer = await this.post(spec, hook, body)
        if (!answer.ok) this.notificationFailed(spec.endpoint, hook, answer.reason)
      })
    }
  }

  private notifier (endpoint: string): Notifier {
    let notifier = this.notifiers.get(endpoint)
    if (notifier === undefined) {
      notifier = new Notifier((level, msg) => { this.log(level, `${endpoint}: ${msg}`) }, () => { this.counters.notificationsDropped++ })
      this.notifiers.set(endpoint, notifier)
    }
    return notifier
  }

  /** A failing notification endpoint is logged at most every 10 s, with the failures in between counted. */
  private notificationFailed (endpoint: string, hook: string, reason: string): void {
    const now = Date.now()
    const seen = this.failures.get(endpoint) ?? { loggedAt: 0, unlogged: 0 }
    this.failures.set(endpoint, seen)
    if (now - seen.loggedAt < 10_000) {
      seen.unlogged++
      return
    }
    const more = seen.unlogged > 0 ? ` (and ${seen.unlogged} more failures since the last line)` : ''
    this.log('warn', `calling endpoint ${endpoint} for ${hook} failed due to ${reason}${more}`)
    seen.loggedAt = now
    seen.unlogged = 0
  }

  /** Pool settings changed: connections opened from now on follow them. */
  resetPools (): void {
    this.pools.reset()
  }

  close (): void {
    this.pools.close()
  }

  /**
   * VerneMQ's all_till_ok over the hook's endpoints, with the answer cache:
   * the first ok or error decides, next asks the following endpoint.
   */
  private async ask (hook: HookName, body: Record<string, unknown> | ((spec: WebhookSpec) => Record<string, unknown>)): Promise<AuthAnswer> {
    for (const spec of this.registry.endpoints(hook)) {
      const args = typeof body === 'function' ? body(spec) : body
      const cached = cachable(hook) ? this.cache.lookup(spec.endpoint, hook, args) : undefined
      if (cached !== undefined) return { kind: 'ok', modifiers: cached }
      const answer = await this.post(spec, hook, JSON.stringify(args))
      if (!answer.ok) {
        this.log('error', `calling endpoint ${spec.endpoint} for ${hook} failed due to ${answer.reason}`)
        return { kind: 'error', reason: answer.reason }
      }
      const read = readAnswer(hook, answer.body)
      if (read.kind === 'error') this.counters.of(hook).errors++
      if (read.kind === 'next') continue
      if (read.kind === 'ok' && answer.maxAge !== undefined && cachable(hook)) this.cache.insert(spec.endpoint, hook, args, answer.maxAge, read.modifiers)
      if (read.kind === 'ok') read.modifiers = decodePayload(read.modifiers, spec)
      return read
    }
    return { kind: 'next' }
  }

  /** One HTTP call, counted (a failed one also as an error). */
  private async post (spec: WebhookSpec, hook: HookName, body: string): Promise<HttpAnswer> {
    const counts = this.counters.of(hook)
    counts.requests++
    counts.bytesSent += Buffer.byteLength(body)
    const answer = await this.pools.post(spec.endpoint, hook, body, spec.responseTimeout)
    if (!answer.ok) counts.errors++
    return answer
  }

  /** Each allowed modifier vmq-ts does not apply is logged once per hook. */
  private warnNoEffect (hook: string, names: string[]): void {
    for (const name of names) {
      if (this.warned.has(`${hook}.${name}`)) continue
      this.warned.add(`${hook}.${name}`)
      this.log('warn', `${hook}: modifier ${name} has no effect in vmq-ts (ignored)`)
    }
  }
}

/** VerneMQ caches the answers of the auth_on_* hooks only. */
function cachable (hook: HookName): boolean {
  return hook.startsWith('auth_on_')
}

/** The payload modifier comes base64-encoded unless the endpoint was registered with base64payload off. */
function decodePayload (modifiers: Record<string, unknown>, spec: WebhookSpec): Record<string, unknown> {
  if (typeof modifiers.payload !== 'string') return modifiers
  const payload = spec.base64Payload ? Buffer.from(modifiers.payload, 'base64') : Buffer.from(modifiers.payload, 'utf8')
  return { ...modifiers, payload }
}

function subscribeTopics (topics: unknown): Array<{ topic: string, qos: number }> | undefined {
  if (!Array.isArray(topics)) return undefined
  const out: Array<{ topic: string, qos: number }> = []
  for (const t of topics as unknown[]) {
    if (typeof t !== 'object' || t === null) return undefined
    const { topic, qos } = t as { topic?: unknown, qos?: unknown }
    if (typeof topic !== 'string' || typeof qos !== 'number' || !Number.isInteger(qos)) return undefined
    out.push({ topic, qos })
  }
  return out
}
