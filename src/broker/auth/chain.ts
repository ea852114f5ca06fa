import type { AccessVerdict, AuthPlugin, AuthStep, ClientEvent, ClientInfo, PublishModifiers, PublishRequest, RegisterVerdict, SubscribeRequest } from './types.js'

/** A PUBLISH decision, with what an asynchronous plugin changed in it. */
export interface PublishDecision { allowed: boolean, modifiers?: PublishModifiers }

/** A SUBSCRIBE decision; `topics` (one per filter, in order) when a plugin rewrote them. */
export interface SubscribeDecision { allowed: boolean, topics?: Array<{ topic: string, qos: number }> }

/**
 * Runs the enabled plugins in order, as VerneMQ's hook chain: the first `ok`
 * accepts, the first refusal stops, and a chain where every plugin says `next`
 * refuses. With no authorization plugin enabled at all, publish and subscribe
 * are allowed (VerneMQ would refuse everything; the node warns at startup).
 * Synchronous plugins answer at once; a decision waits only when the chain
 * reaches an asynchronous one (webhooks).
 */
export class AuthChain {
  constructor (private readonly plugins: () => readonly AuthPlugin[]) {}

  async register (client: ClientInfo, password: Buffer | undefined): Promise<RegisterVerdict> {
    for (const plugin of this.plugins()) {
      if (plugin.authOnRegister === undefined) continue
      const verdict = await plugin.authOnRegister(client, password)
      if (verdict.kind !== 'next') return verdict
    }
    return { kind: 'refuse', code: 5, reason: 'chain_exhausted' }
  }

  /** The PUBLISH decision, a promise only when an asynchronous plugin is asked. */
  publish (client: ClientInfo, req: PublishRequest): PublishDecision | Promise<PublishDecision> {
    return this.publishFrom(this.plugins(), 0, false, client, req)
  }

  private publishFrom (plugins: readonly AuthPlugin[], start: number, asked: boolean, client: ClientInfo, req: PublishRequest): PublishDecision | Promise<PublishDecision> {
    for (let i = start; i < plugins.length; i++) {
      const plugin = plugins[i]
      const verdict = plugin.authOnPublish?.(client, req)
      if (verdict !== undefined) {
        asked = true
        if (verdict === 'ok') return { allowed: true }
        if (verdict === 'deny') return { allowed: false }
        continue
      }
      const pending = plugin.authorizePublish?.(client, req)
      if (pending === undefined) continue
      return pending.then(outcome => {
        if (outcome.verdict === 'ok') return { allowed: true, modifiers: outcome.modifiers }
        if (outcome.verdict === 'deny') return { allowed: false }
        return this.publishFrom(plugins, i + 1, true, client, req)
      })
    }
    return { allowed: !asked }
  }

  /**
   * One filter against the synchronous plugins (`session reauthorize`; the
   * asynchronous ones are not asked again there).
   */
  subscribe (client: ClientInfo, req: SubscribeRequest): boolean {
    const verdict = this.syncSubscribe(client, req)
    return verdict === 'ok' || verdict === 'unasked'
  }

  /**
   * A whole SUBSCRIBE: refused when a synchronous plugin denies one filter,
   * granted when they accept every filter; otherwise the asynchronous plugins
   * decide for the packet (and may rewrite its filters).
   */
  subscribePacket (client: ClientInfo, subs: SubscribeRequest[]): SubscribeDecision | Promise<SubscribeDecision> {
    const verdicts = subs.map(s => this.syncSubscribe(client, s))
    if (verdicts.includes('deny')) return { allowed: false }
    if (verdicts.every(v => v === 'ok')) return { allowed: true }
    const asked = verdicts.some(v => v !== 'unasked')
    return this.subscribeAsyncFrom(this.plugins(), 0, asked, client, subs)
  }

  private subscribeAsyncFrom (plugins: readonly AuthPlugin[], start: number, asked: boolean, client: ClientInfo, subs: SubscribeRequest[]): SubscribeDecision | Promise<SubscribeDecision> {
    for (let i = start; i < plugins.length; i++) {
      const pending = plugins[i].authorizeSubscribe?.(client, subs)
      if (pending === undefined) continue
      return pending.then(outcome => {
        if (outcome.verdict === 'ok') return { allowed: true, topics: outcome.topics }
        if (outcome.verdict === 'deny') return { allowed: false }
        return this.subscribeAsyncFrom(plugins, i + 1, true, client, subs)
      })
    }
    return { allowed: !asked }
  }

  /** Whether a plugin does enhanced authentication now (else a CONNECT with an Authentication Method gets 0x8C). */
  hasEnhancedAuth (): boolean {
    return this.plugins().some(p => p.enhancedAuth !== undefined && p.hooks.includes('on_auth_m5'))
  }

  /** One enhanced authentication step: the first plugin that has something to ask answers; none refuses. */
  async enhancedAuth (client: ClientInfo, properties: Record<string, unknown>): Promise<AuthStep> {
    for (const plugin of this.plugins()) {
      const step = plugin.enhancedAuth?.(client, properties)
      if (step !== undefined) return await step
    }
    return { kind: 'refuse', reason: 'no_matching_hook_found' }
  }

  /** Whether a plugin may answer a registration with another client id and mountpoint. */
  movesClients (): boolean {
    return this.plugins().some(p => p.movesClients?.() === true)
  }

  hasAuthorization (): boolean {
    return this.plugins().some(p => p.authOnPublish !== undefined || p.authOnSubscribe !== undefined || p.authorizes?.() === true)
  }

  clientGone (client: ClientInfo): void {
    for (const plugin of this.plugins()) plugin.onClientGone?.(client)
  }

  /** Whether any plugin wants to be told what happens to clients (so events are only built then). */
  listens (): boolean {
    return this.plugins().some(p => p.onEvent !== undefined && (p.listening?.() ?? true))
  }

  notify (event: ClientEvent): void {
    for (const plugin of this.plugins()) plugin.onEvent?.(event)
  }

  private syncSubscribe (client: ClientInfo, req: SubscribeRequest): AccessVerdict | 'unasked' {
    let asked = false
    for (const plugin of this.plugins()) {
      const verdict = plugin.authOnSubscribe?.(client, req)
      if (verdict === undefined) continue
      asked = true
      if (verdict !== 'next') return verdict
    }
    return asked ? 'next' : 'unasked'
  }
}
