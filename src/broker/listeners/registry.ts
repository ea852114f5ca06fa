// The node's MQTT listeners and what `vmq-admin listener ...` does to them:
// start one, stop (suspend, optionally closing its connections), restart
// (resume), delete; listeners are addressed by address and port as in VerneMQ.
import { InvalidRequest } from '../../errors.js'
import type { ListenerConfig } from '../../config/load.js'
import { describeAddress, type MqttListener } from './types.js'

/** A listener operation the operator asked for that cannot be done; the message says why. */
export class ListenerOpError extends InvalidRequest {}

export class ListenerRegistry {
  private readonly listeners: MqttListener[] = []

  /** `changed`: a listener was started, stopped, restarted or deleted (not called by suspendAll, closeAll) */
  constructor (private readonly create: (config: ListenerConfig) => MqttListener, private readonly changed: () => void = () => {}) {}

  all (): readonly MqttListener[] { return this.listeners }

  find (address: string, port: number): MqttListener | undefined {
    const host = address.replace(/^\[(.*)\]$/, '$1')
    return this.listeners.find(l => l.config.host === host && l.port() === port)
  }

  /** Builds and starts a listener; bind and TLS errors are thrown as they come. */
  async start (config: ListenerConfig): Promise<MqttListener> {
    if (config.port !== 0 && this.find(config.host, config.port) !== undefined) {
      throw new ListenerOpError(`can't start listener: ${describeAddress(config)} is already a listener (listener show)`)
    }
    const listener = this.create(config)
    await listener.start()
    this.listeners.push(listener)
    this.changed()
    return listener
  }

  async stop (address: string, port: number, killSessions: boolean): Promise<void> {
    const listener = this.get('stop', address, port)
    await listener.suspend()
    if (killSessions) listener.dropConnections()
    this.changed()
  }

  async restart (address: string, port: number): Promise<void> {
    await this.get('restart', address, port).resume()
    this.changed()
  }

  async delete (address: string, port: number): Promise<void> {
    const listener = this.get('delete', address, port)
    this.listeners.splice(this.listeners.indexOf(listener), 1)
    await listener.close()
    this.changed()
  }

  /** Makes every TLS listener re-read its certificate files; returns how many did. */
  reloadCertificates (): number {
    const tls = this.listeners.filter(l => l.reloadCertificates !== undefined)
    for (const l of tls) l.reloadCertificates?.()
    return tls.length
  }

  /** Stops accepting on every listener; open connections stay. */
  async suspendAll (): Promise<void> {
    await Promise.allSettled(this.listeners.filter(l => l.status === 'running').map(async l => { await l.suspend() }))
  }

  async closeAll (): Promise<void> {
    await Promise.allSettled(this.listeners.map(async l => { await l.close() }))
  }

  private get (verb: string, address: string, port: number): MqttListener {
    const listener = this.find(address, port)
    if (listener === undefined) {
      throw new ListenerOpError(`can't ${verb} listener: no listener on ${describeAddress({ host: address.replace(/^\[(.*)\]$/, '$1'), port })} (listener show lists them)`)
    }
    return listener
  }
}
