// The bridges of a node (vmq_bridge.tcp|ssl.NAME), run while the vmq_bridge
// plugin is enabled.
import type { BridgeConfig } from '../../config/bridge.js'
import { Bridge, type BridgeHost, type BridgeInfo } from './bridge.js'

export class Bridges {
  private running: Bridge[] = []

  constructor (private readonly configs: readonly BridgeConfig[], private readonly host: BridgeHost) {}

  get configured (): number { return this.configs.length }

  /** Starts every configured bridge; if one cannot start (a TLS file is missing), none runs. */
  async start (): Promise<void> {
    const started: Bridge[] = []
    try {
      for (const config of this.configs) {
        const bridge = new Bridge(config, this.host)
        started.push(bridge)
        await bridge.start()
      }
    } catch (err) {
      await Promise.allSettled(started.map(async b => { await b.stop() }))
      throw err
    }
    this.running = started
  }

  async stop (): Promise<void> {
    const all = this.running
    this.running = []
    await Promise.allSettled(all.map(async b => { await b.stop() }))
  }

  info (): BridgeInfo[] {
    return this.running.map(b => b.info())
  }
}
