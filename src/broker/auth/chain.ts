import type { AccessVerdict, AuthPlugin, ClientInfo, PublishRequest, RegisterVerdict, SubscribeRequest } from './types.js'

/**
 * Runs the enabled plugins in order, as VerneMQ's hook chain: the first `ok`
 * accepts, the first refusal stops, and a chain where every plugin says `next`
 * refuses. With no authorization plugin enabled at all, publish and subscribe
 * are allowed (VerneMQ would refuse everything; the node warns at startup).
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

  publish (client: ClientInfo, req: PublishRequest): boolean {
    return this.decide(p => p.authOnPublish?.(client, req))
  }

  subscribe (client: ClientInfo, req: SubscribeRequest): boolean {
    return this.decide(p => p.authOnSubscribe?.(client, req))
  }

  hasAuthorization (): boolean {
    return this.plugins().some(p => p.authOnPublish !== undefined || p.authOnSubscribe !== undefined)
  }

  clientGone (client: ClientInfo): void {
    for (const plugin of this.plugins()) plugin.onClientGone?.(client)
  }

  private decide (ask: (plugin: AuthPlugin) => AccessVerdict | undefined): boolean {
    let asked = false
    for (const plugin of this.plugins()) {
      const verdict = ask(plugin)
      if (verdict === undefined) continue
      asked = true
      if (verdict === 'ok') return true
      if (verdict === 'deny') return false
    }
    return !asked
  }
}
