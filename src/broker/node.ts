// One broker node, assembled from its configuration: settings, logger, one aedes
// instance per mountpoint (VerneMQ keys sessions and topics by {mountpoint, id},
// so separate instances give exactly that isolation), the MQTT listeners and the
// gRPC server on the clustering listener.
import { Aedes, type AedesOptions } from 'aedes'
import type { Duplex } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { NodeConfig, ListenerConfig } from '../config/load.js'
import { Settings } from '../config/settings.js'
import { startRpcServer, type RpcServer } from '../rpc/server.js'
import { adminService } from './admin.js'
import { AuthChain } from './auth/chain.js'
import type { AuthPlugin } from './auth/types.js'
import { getMeta, setMeta } from './client-meta.js'
import { brokerHooks } from './hooks.js'
import { ListenerRegistry } from './listeners/registry.js'
import { TcpListener } from './listeners/tcp.js'
import { TlsConfigError } from './listeners/tls-context.js'
import { TlsListener } from './listeners/tls.js'
import { WsListener, WssListener } from './listeners/ws.js'
import { describeAddress, type ConnectionInfo, type ListenerContext, type MqttListener } from './listeners/types.js'
import { createLogger, type Logger } from './log.js'

export class StartError extends Error {}

export interface ListenerInfo {
  kind: string
  name: string
  address: string
}

export class BrokerNode {
  readonly settings: Settings
  readonly log: Logger
  readonly listeners = new ListenerRegistry(config => this.createListener(config))
  readonly plugins: AuthPlugin[] = []
  private readonly brokers = new Map<string, Promise<Aedes>>()
  private readonly chain: AuthChain
  private rpc: RpcServer | undefined
  private stopping: Promise<void> | undefined

  private constructor (readonly config: NodeConfig) {
    this.settings = new Settings(config.values)
    this.log = createLogger(this.settings)
    this.chain = new AuthChain(() => this.plugins)
  }

  get name (): string { return this.settings.string('nodename') }

  static async start (config: NodeConfig): Promise<BrokerNode> {
    const node = new BrokerNode(config)
    try {
      await node.open()
    } catch (err) {
      await node.stop()
      throw err
    }
    return node
  }

  private async open (): Promise<void> {
    for (const warning of this.config.warnings) this.log.warn(warning)
    this.warnAboutOpenAccess()
    await this.brokerFor('')
    for (const config of this.config.listeners) {
      if (config.type === 'vmq') continue // served by the gRPC server
      await this.listeners.start(config)
    }
    const clustering = this.clusteringListener()
    this.rpc = await startRpcServer(clustering.host, clustering.port, () => this.settings.string('distributed_cookie'), adminService(this))
    this.log.info({ node: this.name, config: this.config.source }, 'node started')
  }

  private warnAboutOpenAccess (): void {
    if (this.settings.flag('allow_anonymous')) {
      this.log.warn('allow_anonymous = on: clients connect without credentials; turn it off in production')
    }
    if (!this.chain.hasAuthorization()) {
      this.log.warn('no authorization plugin is enabled: every client may publish and subscribe to every topic')
    }
  }

  private clusteringListener (): ListenerConfig {
    const found = this.config.listeners.find(l => l.type === 'vmq')
    if (found === undefined) throw new StartError('no listener.vmq.<name> is configured for cluster and admin traffic')
    return found
  }

  private createListener (config: ListenerConfig): MqttListener {
    const ctx: ListenerContext = { accept: (stream, listener, info, req) => { this.accept(stream, listener, info, req) }, log: this.log }
    try {
      switch (config.type) {
        case 'tcp': return new TcpListener(config, ctx)
        case 'ssl': return new TlsListener(config, ctx)
        case 'ws': return new WsListener(config, ctx)
        case 'wss': return new WssListener(config, ctx)
        default:
          throw new StartError(`listener.${config.type}.${config.name}: ${config.type} listeners are not supported yet`)
      }
    } catch (err) {
      if (err instanceof TlsConfigError) throw new StartError(err.message)
      throw err
    }
  }

  private accept (stream: Duplex, listener: MqttListener, info: ConnectionInfo, req?: IncomingMessage): void {
    const mountpoint = String(listener.config.options.get('mountpoint') ?? '').replace(/\/+$/, '')
    this.brokerFor(mountpoint).then(broker => {
      const client = broker.handle(stream, req)
      setMeta(client, {
        listener,
        mountpoint,
        username: undefined,
        sentClientIdLength: 0,
        protocolVersion: 4,
        peerHost: info.peerHost,
        peerPort: info.peerPort,
        certCommonName: info.certCommonName,
        preauthUsername: info.preauthUsername
      })
    }, (err: Error) => {
      this.log.error({ err: err.message, mountpoint }, 'cannot serve a connection')
      stream.destroy()
    })
  }

  /** The aedes instance of a mountpoint, created on first use. */
  brokerFor (mountpoint: string): Promise<Aedes> {
    let broker = this.brokers.get(mountpoint)
    if (broker === undefined) {
      broker = this.createBroker(mountpoint)
      this.brokers.set(mountpoint, broker)
    }
    return broker
  }

  private async createBroker (mountpoint: string): Promise<Aedes> {
    const options: AedesOptions = {
      id: mountpoint === '' ? this.name : `${this.name}/${mountpoint}`,
      connectTimeout: this.settings.number('mqtt_connect_timeout'),
      // Client ids are checked against max_client_id_size (settable at runtime) in authenticate.
      maxClientsIdLength: 65535,
      ...brokerHooks({ settings: this.settings, chain: this.chain, log: this.log })
    }
    const broker = await Aedes.createBroker(options)
    broker.on('client', client => {
      const meta = getMeta(client)
      this.log.debug({ client: client.id, mountpoint, peer: `${meta?.peerHost}:${meta?.peerPort}`, username: meta?.username }, 'client connected')
    })
    broker.on('clientDisconnect', client => { this.log.debug({ client: client.id, mountpoint }, 'client disconnected') })
    broker.on('clientError', (client, err) => { this.log.debug({ client: client.id, err: err.message }, 'client error') })
    broker.on('connectionError', (_client, err) => { this.log.debug({ err: err.message }, 'connection error') })
    return broker
  }

  listenerInfo (): ListenerInfo[] {
    const info = this.listeners.all().map(l => ({ kind: l.kind, name: `${l.config.type}.${l.config.name}`, address: describeAddress({ ...l.config, port: l.port() }) }))
    const clustering = this.clusteringListener()
    info.push({ kind: 'vmq', name: `vmq.${clustering.name}`, address: describeAddress({ ...clustering, port: this.rpc?.port ?? clustering.port }) })
    return info
  }

  /** Closes listeners, brokers, stores and the RPC server; safe to call twice. */
  async stop (): Promise<void> {
    this.stopping ??= this.close()
    await this.stopping
  }

  private async close (): Promise<void> {
    await this.listeners.closeAll()
    for (const pending of this.brokers.values()) {
      const broker = await pending.catch(() => undefined)
      if (broker !== undefined) await new Promise<void>(resolve => { broker.close(() => resolve()) })
    }
    await Promise.allSettled(this.plugins.map(async p => { await p.close?.() }))
    await this.rpc?.close()
    this.log.info({ node: this.name }, 'node stopped')
    this.log.flush()
  }
}
