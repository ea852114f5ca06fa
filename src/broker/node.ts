// One broker node, assembled from its configuration: settings, logger, one aedes
// instance per mountpoint (VerneMQ keys sessions and topics by {mountpoint, id},
// so separate instances give exactly that isolation), the MQTT listeners, the
// cluster, and the gRPC server on the clustering listener.
import { Aedes, type AedesOptions, type Client } from 'aedes'
import type { Duplex } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { clusterListener, type NodeConfig, type ListenerConfig } from '../config/load.js'
import { Settings } from '../config/settings.js'
import { findKey } from '../config/schema.js'
import { vmqProto } from '../rpc/proto.js'
import { startRpcServer, type RpcServer } from '../rpc/server.js'
import { serverCredentials } from '../rpc/tls.js'
import type { Publish } from '../rpc/generated/vmq/Publish.js'
import type { Retain } from '../rpc/generated/vmq/Retain.js'
import { Cluster } from '../cluster/cluster.js'
import type { ClusterHost } from '../cluster/host.js'
import { clusterService } from '../cluster/service.js'
import { ClusterMq } from '../cluster/router.js'
import { isExpired, propertiesFromWire, propertiesToWire, type MessageExtras } from '../cluster/properties.js'
import { skipPeerRetained } from '../cluster/peer-retained.js'
import { trackSubscriptions } from '../cluster/tracked-persistence.js'
import { adminService } from './admin/service.js'
import { clusterTls, unappliedOptions, type ClusterTls } from './cluster-tls.js'
import { AuthChain } from './auth/chain.js'
import { getMeta, setMeta } from './client-meta.js'
import { trackSubscribePackets } from './subscribe-packets.js'
import { brokerHooks, clientInfo } from './hooks.js'
import { enhancedAuthExchange } from './enhanced-auth.js'
import type { AuthExchange } from './delivery/adapter-guard.js'
import { tellClientEvents, tellDelivered, tellOffline } from './client-events.js'
import { ListenerRegistry } from './listeners/registry.js'
import { TcpListener } from './listeners/tcp.js'
import { TlsConfigError } from './listeners/tls-context.js'
import { TlsListener } from './listeners/tls.js'
import { WsListener, WssListener } from './listeners/ws.js'
import { clusterListenerRow } from './listeners/show.js'
import { describeAddress, listenerMountpoint, type ConnectionInfo, type ListenerContext, type MqttListener } from './listeners/types.js'
import { createLogger, type Logger } from './log.js'
import { SessionRegistry, adopt, handOver } from './sessions.js'
import { leaveCluster } from './admin/leave.js'
import { Plugins } from './plugins.js'
import { Bridges } from './bridge/bridges.js'
import type { DurableStore } from './store/durable-store.js'
import type { LevelPersistence } from './store/level-persistence.js'
import { openStore } from './store/open.js'
import { randomUUID } from 'node:crypto'
import { BrokerCounters } from './counters.js'
import { countWire, countWireReads } from './monitoring/wire-counts.js'
import { HttpListener, HttpsListener, type MonitoringSource } from './monitoring/http.js'
import { monitoringSource } from './monitoring/source.js'
import { Tracer } from './trace/tracer.js'
import { Systree } from './monitoring/systree.js'
import { startRetainExpiry } from './retain-expiry.js'
import { HttpRoutes } from './monitoring/routes.js'
import { ApiKeyError, ApiKeys } from './api-keys.js'
import { catchUpApiKeys } from './admin/api-keys.js'
import { armConnectTimeout } from './connect-timeout.js'
import type { EarlyRegistration } from './auth/types.js'
import { registerEarly, registersEarly } from './early-register.js'
import { readFirstPacket } from './listeners/first-packet.js'
import { CONNECT_MAX_BYTES, maximumPacketSize } from './packet-size.js'
import { guardPackets, setMaximumPacketSize, type PacketGuard } from './delivery/adapter-guard.js'
import { Queues } from './delivery/queues.js'
import { QueueSettings } from './delivery/settings.js'
import { subscriptionsRemoved } from './subscription-limit.js'
import { amendConnack, grant } from './connack.js'
import { answeredPublish, receiveMaximumWatch } from './inbound-quota.js'
import { serveSharedToV5 } from './shared-v5.js'
import { withoutWillDelay } from './will-publish.js'
import { hostOf, mqttEndpoints } from './server-reference.js'
import { acknowledgeAndPublish, setTopicAliasMaximum, writeNow } from './delivery/adapter.js'
import { InvalidRequest } from '../errors.js'
import { addEnvUsers, envUsers, envUsersProblem } from '../passwd/env-users.js'
import type { Instance } from './instance.js'
import type { ListenerInfo } from './listeners/types.js'

/** MQTT 5 DISCONNECT reason: the client was silent for 1.5 x its keep alive */
const KEEP_ALIVE_TIMEOUT = 0x8d
const EMPTY = Buffer.alloc(0)
const DEFAULT_COOKIE = findKey('distributed_cookie')?.default

function toBuffer (bytes: Buffer | Uint8Array | string | undefined): Buffer {
  if (bytes === undefined) return EMPTY
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)
}

/** A publish a peer routed here, as handed to aedes. */
interface RoutedPublish extends MessageExtras {
  cmd: 'publish'
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  dup: false
  brokerId: string
  brokerCounter: number
}

export class StartError extends InvalidRequest {}

/** host:port of a connection's client, as the listener saw it */
function peerOf (client: Client): string {
  const meta = getMeta(client)
  return `${meta?.peerHost}:${meta?.peerPort}`
}

function listenerInfo (kind: string, config: ListenerConfig, port: number): ListenerInfo {
  return { kind, name: `${config.type}.${config.name}`, address: describeAddress({ host: config.host, port }), host: config.host, port }
}

/** set only by the benchmark that measures what counting bytes and packets per type costs */
const NO_WIRE_METRICS = process.env.VMQ_BENCH_NO_WIRE_METRICS === '1'

/** aedes' own CONNECT timer is fixed at creation; ours (connect-timeout.ts) reads the setting per connection. */
const AEDES_CONNECT_TIMEOUT = 2 ** 31 - 1

export class BrokerNode {
  readonly settings: Settings
  readonly log: Logger
  readonly listeners = new ListenerRegistry(config => this.createListener(config), () => { this.cluster.listenersChanged() })
  readonly plugins: Plugins
  /** MQTT 5 enhanced authentication through the plugins' on_auth_m5 */
  private readonly authExchange: AuthExchange
  /** vmq_bridge.* bridges, run by the vmq_bridge plugin */
  readonly bridges: Bridges
  readonly sessions = new SessionRegistry()
  readonly cluster: Cluster
  /** drops, refusals, retries and expirations, for metrics */
  readonly counters = new BrokerCounters()
  readonly tracer = new Tracer(() => this.name)
  readonly queueSettings: QueueSettings
  /** the paths the HTTP listeners serve; a module adds its own with `http.add` */
  readonly http = new HttpRoutes()
  /** `vmq-admin api-key` keys, checked by the HTTP modules in apikey mode */
  readonly apiKeys: ApiKeys
  private readonly clusterHost: ClusterHost
  private readonly instances = new Map<string, Promise<Instance>>()
  /** the instances that are up, by mountpoint */
  private readonly running = new Map<string, Instance>()
  readonly chain: AuthChain
  private rpc: RpcServer | undefined
  /** what the HTTP listeners serve (/metrics, /health), made with the first one */
  private monitoring: MonitoringSource | undefined
  /** the $SYS/<nodename>/... metrics */
  private systree: Systree | undefined
  private stopRetainExpiry: (() => void) | undefined
  /** certificates of a vmqs cluster listener; undefined = plain vmq */
  private tls: ClusterTls | undefined
  private stopping: Promise<void> | undefined
  private readonly stopListeners: Array<() => void> = []
  /** aedes ids of the peers that routed retained messages here (see skipPeerRetained) */
  private readonly peerOrigins = new Set<string>()
  private clusterStart = (): void => {}
  /** resolves when the cluster has started (it knows its members) */
  private readonly clusterStarted = new Promise<void>(resolve => { this.clusterStart = resolve })

  private constructor (readonly config: NodeConfig) {
    this.settings = new Settings(config.values)
    this.log = createLogger(this.settings)
    this.queueSettings = new QueueSettings(this.settings)
    this.bridges = new Bridges(config.bridges, {
      log: this.log,
      broker: async mountpoint => (await this.instance(mountpoint)).broker,
      flushed: async mountpoint => { await (await this.instance(mountpoint)).store.flushed() },
      replicateRetained: async (mountpoint, topic, payload, qos) => {
        if (this.cluster.hasPeers()) await this.cluster.replicateRetain(mountpoint, topic, payload, qos)
      }
    })
    this.plugins = new Plugins(this.settings, this.log, { bridges: this.bridges, webhooks: config.webhooks })
    this.chain = new AuthChain(() => this.plugins.running())
    this.authExchange = enhancedAuthExchange(this.chain, this.log)
    this.packetGuard.exchange = this.authExchange
    try {
      this.apiKeys = new ApiKeys(this.settings.string('persistent_dir'))
    } catch (err) {
      if (err instanceof ApiKeyError) throw new StartError(err.message)
      throw err
    }
    this.clusterHost = {
      name: this.name,
      log: this.log,
      cookie: () => this.settings.string('distributed_cookie'),
      address: () => this.clusterAddress(),
      mqttEndpoints: () => mqttEndpoints(this.listeners.all(), hostOf(this.clusterAddress())),
      tls: () => this.tls?.client,
      deliverRemote: async publishes => { await this.deliverRemote(publishes) },
      storeRetained: async retain => { await this.storeRetained(retain) },
      retainedMessages: async () => await this.retainedMessages(),
      handover: async (mountpoint, clientId, clean) => {
        const instance = await this.instances.get(mountpoint)
        const session = await handOver(instance?.persistence, this.sessions.client(mountpoint, clientId), clientId, clean, this.settings.flag('suppress_lwt_on_session_takeover'))
        this.log.debug({ clientId, mountpoint, found: session.found, subscriptions: session.subscriptions?.length ?? 0, messages: session.messages?.length ?? 0 }, 'session handed over to another node')
        return session
      },
      adopt: async (mountpoint, clientId, session) => {
        const { broker, persistence } = await this.instance(mountpoint)
        await adopt(broker, persistence, clientId, [session])
      },
      requestTimeout: () => this.settings.number('remote_enqueue_timeout'),
      sharePolicy: () => this.settings.string('shared_subscription_policy'),
      publishDuringNetsplit: () => this.settings.flag('allow_publish_during_netsplit'),
      memberReachable: (member, address) => { void catchUpApiKeys(this, member, address) }
    }
    this.cluster = new Cluster(this.clusterHost, this.settings.string('persistent_dir'))
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
    await this.addEnvironmentUsers()
    await this.plugins.startConfigured()
    this.warnAboutOpenAccess()
    await this.instance('')
    this.monitoring = monitoringSource(this)
    const clustering = this.clusteringListener()
    this.tls = this.readClusterTls(clustering)
    for (const option of unappliedOptions(clustering)) {
      this.log.warn(`listener.vmqs.${clustering.name}: ${option} has no effect on a vmqs listener (gRPC's TLS defaults apply)`)
    }
    const proto = vmqProto()
    const refused = (peer: string, method: string, since: number): void => {
      this.log.warn({ peer, method, refusedSinceLastLine: since }, 'gRPC call refused: wrong or missing distributed_cookie')
    }
    this.rpc = await startRpcServer(clustering, serverCredentials(this.tls?.server), () => this.settings.string('distributed_cookie'), refused, [
      { definition: proto.Admin.service, handlers: adminService(this) },
      { definition: proto.Cluster.service, handlers: clusterService(this.cluster, this.clusterHost) }
    ])
    this.warnAboutDefaultCookie()
    this.cluster.onLeaveRequest = async opts => await leaveCluster(this, opts)
    // before the MQTT listeners: a node restarting as a member knows its peers
    // before its first client publishes (see SubscriptionTables.pending)
    this.cluster.start(this.settings.string('discovery_node'))
    this.clusterStart()
    for (const config of this.config.listeners) {
      if (config.type === 'vmq' || config.type === 'vmqs') continue // served by the gRPC server
      await this.listeners.start(config)
    }
    this.startSystree()
    this.stopRetainExpiry = startRetainExpiry({
      intervalS: this.settings.number('expire_retain_cache'),
      stores: async () => (await this.allInstances()).map(i => i.store),
      log: deleted => { this.log.debug({ deleted }, 'expired retained messages deleted (expire_retain_cache)') },
      onError: err => { this.log.error({ err: err.message }, 'expire_retain_cache: cannot delete expired retained messages') }
    })
    // the bound addresses: a listener configured with port 0 got its port from the kernel
    const listeners = this.listenerInfo().map(l => `${l.name}@${l.address}`).join(',')
    this.log.info({ node: this.name, config: this.config.source, listeners }, 'node started')
  }

  /** DOCKER_VERNEMQ_USER_<NAME>=<password>: users added to the password file before it is read. */
  private async addEnvironmentUsers (): Promise<void> {
    const users = envUsers(process.env)
    if (users.length === 0) return
    const problem = envUsersProblem(users)
    if (problem !== undefined) throw new StartError(problem)
    const file = this.settings.string('vmq_passwd.password_file')
    try {
      await addEnvUsers(file, users)
    } catch (err) {
      throw new StartError(`vmq_passwd.password_file = ${file}: cannot add the DOCKER_VERNEMQ_USER_* users: ${(err as Error).message}`)
    }
    this.log.info({ users: users.map(u => u.username), file }, 'users from DOCKER_VERNEMQ_USER_* variables added to the password file')
  }

  /** $SYS metrics go out on the default mountpoint ("" as VerneMQ's systree_mountpoint). */
  private startSystree (): void {
    const metrics = (this.monitoring ??= monitoringSource(this)).metrics
    this.systree = new Systree({
      settings: this.settings,
      log: this.log,
      nodeName: () => this.name,
      snapshot: async () => await metrics.snapshot(),
      publish: async (topic, payload) => {
        const { broker } = await this.instance('')
        await new Promise<void>(resolve => {
          broker.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false } as Parameters<Aedes['publish']>[0], () => { resolve() })
        })
      }
    })
    this.systree.start()
  }

  private warnAboutOpenAccess (): void {
    if (this.settings.flag('allow_anonymous')) {
      this.log.warn('allow_anonymous = on: clients connect without credentials; turn it off in production')
    }
    if (!this.chain.hasAuthorization()) {
      this.log.warn('no authorization plugin is enabled: every client may publish and subscribe to every topic')
    }
  }

  /** After the cluster listener is bound: the warning names the port it got. */
  private warnAboutDefaultCookie (): void {
    if (this.settings.string('distributed_cookie') !== DEFAULT_COOKIE) return
    const l = this.clusteringListener()
    this.log.warn(`distributed_cookie is the default "${DEFAULT_COOKIE}": whoever reaches ${describeAddress({ host: l.host, port: this.rpc?.port ?? l.port })} can run admin commands and join the cluster; set your own`)
  }

  private clusteringListener (): ListenerConfig {
    const found = clusterListener(this.config.listeners)
    if (found === undefined) throw new StartError('no listener.vmq.<name> or listener.vmqs.<name> is configured for cluster and admin traffic')
    return found
  }

  private readClusterTls (listener: ListenerConfig): ClusterTls | undefined {
    try {
      return clusterTls(listener)
    } catch (err) {
      if (err instanceof TlsConfigError) throw new StartError(err.message)
      throw err
    }
  }

  /** host:port peers reach us at: the clustering listener, or the nodename's host when it listens on every interface. */
  clusterAddressForWorkers (): string { return this.clusterAddress() }

  /** The port of the clustering (gRPC) listener. */
  clusterPort (): number { return this.rpc?.port ?? this.clusteringListener().port }

  private clusterAddress (): string {
    const l = this.clusteringListener()
    const port = this.rpc?.port ?? l.port
    const wildcard = l.host === '0.0.0.0' || l.host === '::'
    const host = wildcard ? (this.name.split('@')[1] ?? '127.0.0.1') : l.host
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  }

  private createListener (config: ListenerConfig): MqttListener {
    const ctx: ListenerContext = { accept: (stream, listener, info, req) => { this.accept(stream, listener, info, req) }, log: this.log }
    try {
      switch (config.type) {
        case 'tcp': return new TcpListener(config, ctx)
        case 'ssl': return new TlsListener(config, ctx)
        case 'ws': return new WsListener(config, ctx)
        case 'wss': return new WssListener(config, ctx)
        case 'http': return new HttpListener(config, ctx, this.monitoringSource())
        case 'https': return new HttpsListener(config, ctx, this.monitoringSource())
        default:
          throw new StartError(`listener.${config.type}.${config.name}: ${config.type} listeners are not supported yet`)
      }
    } catch (err) {
      if (err instanceof TlsConfigError) throw new StartError(err.message)
      throw err
    }
  }

  private accept (stream: Duplex, listener: MqttListener, info: ConnectionInfo, req?: IncomingMessage): void {
    this.counters.socketOpen++
    // 'close' comes once: `on` spares the wrapper `once` makes (per connection, for its whole life)
    stream.on('close', this.countClose)
    const connectArrived = armConnectTimeout(stream, this.settings.number('mqtt_connect_timeout'), () => {
      this.counters.connectTimeouts++
      this.log.debug({ peer: `${info.peerHost}:${info.peerPort}`, mountpoint: listenerMountpoint(listener.config) }, 'connection closed: no CONNECT within mqtt_connect_timeout')
    })
    if (!registersEarly(this.chain, this.settings, listener, info)) {
      this.attach(stream, listener, info, req, connectArrived, undefined)
      return
    }
    // a plugin may register the client in another mountpoint: its answer chooses the instance
    readFirstPacket(stream, CONNECT_MAX_BYTES).then(async first => {
      if (first.closed) {
        stream.destroy()
        return
      }
      if (first.connect !== undefined) connectArrived()
      const early = first.connect === undefined ? undefined : await registerEarly(this.chain, this.settings, this.log, first.connect, listener, info)
      if (!stream.destroyed) this.attach(stream, listener, info, req, first.connect === undefined ? connectArrived : undefined, early)
    }, (err: Error) => {
      this.log.error({ err: err.message }, 'cannot serve a connection')
      stream.destroy()
    })
  }

  /** Hands a connection to the aedes instance of its mountpoint. */
  private attach (stream: Duplex, listener: MqttListener, info: ConnectionInfo, req: IncomingMessage | undefined, connectArrived: (() => void) | undefined, early: EarlyRegistration | undefined): void {
    const mountpoint = early?.mountpoint ?? listenerMountpoint(listener.config)
    this.instance(mountpoint).then(({ broker, queues }) => {
      const client = broker.handle(stream, req)
      // beneath every rewrite too: counts the packets as they go on the wire
      // VMQ_BENCH_NO_WIRE_METRICS=1 (bench peer vmq-nometrics): the cost of these counts, measured
      if (!NO_WIRE_METRICS) countWire(client, this.counters)
      // first: the trace taps the connection's writes beneath every later rewrite
      this.tracer.watch(client)
      this.guard(client)
      if (!NO_WIRE_METRICS) countWireReads(client, this.counters)
      trackSubscribePackets(client)
      amendConnack(client, (version, code) => { this.counters.connackSent(version, code) })
      this.watchReceiveMaximum(client)
      serveSharedToV5(client)
      stream.on('close', queues.onClose)
      setMeta(client, {
        connectArrived,
        listener,
        mountpoint,
        username: undefined,
        sentClientIdLength: 0,
        protocolVersion: 4,
        clean: true,
        peerHost: info.peerHost,
        peerPort: info.peerPort,
        certCommonName: info.certCommonName,
        preauthUsername: info.preauthUsername,
        early
      })
    }, (err: Error) => {
      this.log.error({ err: err.message, mountpoint }, 'cannot serve a connection')
      stream.destroy()
    })
  }

  private readonly countClose = (): void => { this.counters.socketClose++ }
  private readonly watchReceiveMaximum = receiveMaximumWatch(() => this.settings.number('receive_max_broker'))

  /** Protocol violations and failures in a connection's handling close that connection, never the node. */
  private guard (client: Client): void {
    guardPackets(client, this.packetGuard)
  }

  /** One for every connection: the peer is read from the connection's metadata when needed. */
  private readonly packetGuard: PacketGuard = {
    refused: (c, cmd, problem) => {
      this.counters.protocolErrors++
      this.log.debug({ client: c.id, peer: peerOf(c), cmd, reason: problem.reason }, 'connection closed: protocol violation')
    },
    failed: (c, cmd, err) => {
      this.counters.internalErrors++
      this.log.error({ client: c.id, peer: peerOf(c), cmd, err: err instanceof Error ? err.stack : String(err) }, 'connection closed: handling its packet failed')
    }
  }

  /** What /metrics and `metrics show` read: one registry per node, built on first use. */
  monitoringSource (): MonitoringSource {
    return this.monitoring ??= monitoringSource(this)
  }

  /** The aedes instance of a mountpoint, created on first use. */
  instance (mountpoint: string): Promise<Instance> {
    let instance = this.instances.get(mountpoint)
    if (instance === undefined) {
      instance = this.createInstance(mountpoint)
      this.instances.set(mountpoint, instance)
      instance.then(ready => { this.running.set(mountpoint, ready) }, () => {})
    }
    return instance
  }

  private async createInstance (mountpoint: string): Promise<Instance> {
    // A new aedes id every start: aedes publishes the wills a crashed run left
    // behind only for broker ids it does not see alive.
    const id = `${this.name}${mountpoint === '' ? '' : '/' + mountpoint}#${randomUUID().slice(0, 8)}`
    const interest = this.cluster.interestFor(mountpoint)
    let store: LevelPersistence
    try {
      store = await openStore(this.settings.string('persistent_dir'), mountpoint, this.settings.number('max_offline_messages'), this.log)
    } catch (err) {
      throw new StartError(`persistent_dir: ${(err as Error).message}`)
    }
    const stored = skipPeerRetained(store as unknown as DurableStore, brokerId => this.peerOrigins.has(brokerId))
    const tracked = trackSubscriptions(stored, interest,
      async (clientId, subscriptions) => { await this.cluster.sessionChanged(mountpoint, clientId, subscriptions) },
      store.allSubscriptions())
    const queues = new Queues({
      mountpoint, settings: this.queueSettings, counters: this.counters, log: this.log, store: tracked.persistence, persistentClients: tracked.clients,
      delivered: tellDelivered(this.chain),
      ...tellOffline(this.chain, mountpoint)
    })
    const persistence = queues.persistence
    const mq = new ClusterMq(id, interest, (packet, localShares, confirmations) => this.cluster.route(mountpoint, packet, localShares, confirmations),
      packet => { store.release(packet.payload) })
    const hooks = brokerHooks({
      settings: this.settings, chain: this.chain, log: this.log, cluster: this.cluster, instance: mp => this.instance(mp), store, counters: this.counters, queues
    })
    const options: AedesOptions = {
      id,
      persistence,
      mq,
      connectTimeout: AEDES_CONNECT_TIMEOUT,
      maxTopicLevels: this.settings.number('topic_max_depth'),
      // Client ids are checked against max_client_id_size (settable at runtime) in authenticate.
      maxClientsIdLength: 65535,
      // a PUBLISH far beyond max_message_size is refused from its fixed header, unread
      maximumPacketSize: maximumPacketSize(this.settings.number('max_message_size')),
      topicAliasMaximum: this.settings.number('topic_alias_max_broker'),
      ...hooks,
      preConnect: (client, packet, callback) => {
        hooks.preConnect(client, packet, (err, ok) => {
          if (err === null && ok) grant({ settings: this.settings, store }, client, packet)
          callback(err, ok)
        })
      },
      authorizePublish: publishAcknowledged(answeredPublish((client, packet, callback) => {
        withoutWillDelay(packet)
        hooks.authorizePublish(client, packet, callback)
      })),
      // aedes sends PUBREC after this: a QoS 2 message is on disk before the sender forgets it
      published: (packet, _client, done) => {
        if (packet.qos === 2) store.flushed().then(() => { done() }, done)
        else done()
      }
    }
    const broker = await Aedes.createBroker(options)
    mq.sealInternal()
    queues.attach(broker)
    tellClientEvents(broker, this.chain)
    broker.on('unsubscribe', (topics, client) => { subscriptionsRemoved(client, topics) })
    this.sessions.track(mountpoint, broker)
    // once the members' subscriptions are known, so what was routed reaches them again
    void this.clusterStarted.then(async () => await this.cluster.awaitTables(this.settings.number('remote_enqueue_timeout')))
      .then(() => { if (this.stopping === undefined) this.replayJournal(store, broker) })
    // a clean session that dropped in the middle of a QoS 2 exchange leaves nothing behind
    broker.on('clientDisconnect', client => { if (client.clean) store.cleanIncoming(client.id).catch(() => {}) })
    store.setLifo(this.settings.string('queue_type') === 'lifo')
    const unwatch = this.settings.watch(['max_offline_messages', 'queue_type', 'topic_alias_max_broker', 'max_message_size'], key => {
      if (key === 'max_offline_messages') store.setMaxOfflineMessages(this.settings.number(key))
      if (key === 'queue_type') store.setLifo(this.settings.string(key) === 'lifo')
      if (key === 'topic_alias_max_broker') setTopicAliasMaximum(broker, this.settings.number(key))
      if (key === 'max_message_size') setMaximumPacketSize(broker, maximumPacketSize(this.settings.number(key)))
    })
    broker.once('closed', unwatch)
    // a reconnect resumes a persistent session (Session Present) even without subscriptions
    broker.on('client', client => { if (!client.clean) store.markSession(client.id).catch(() => {}) })
    // the line's object is built only when debug lines are written: this runs for every connection
    broker.on('client', client => {
      if (!this.log.isLevelEnabled('debug')) return
      const meta = getMeta(client)
      this.log.debug({ client: client.id, mountpoint, peer: `${meta?.peerHost}:${meta?.peerPort}`, username: meta?.username }, 'client connected')
    })
    broker.on('clientDisconnect', client => {
      if (this.log.isLevelEnabled('debug')) this.log.debug({ client: client.id, mountpoint }, 'client disconnected')
      this.chain.clientGone(clientInfo(client))
    })
    broker.on('clientError', (client, err) => { this.log.debug({ client: client.id, err: err.message }, 'client error') })
    // aedes closes the connection next; an MQTT 5 client is told why first, as VerneMQ does
    broker.on('keepaliveTimeout', client => {
      this.counters.keepalivesExpired++
      const level = this.settings.flag('logging.keepalive_as_warning') ? 'warn' : 'info'
      this.log[level]({ client: client.id, mountpoint }, 'client disconnected: keepalive timeout (nothing arrived for 1.5 times its keep alive)')
      if (client.version === 5) writeNow(client, { cmd: 'disconnect', reasonCode: KEEP_ALIVE_TIMEOUT })
    })
    broker.on('connectionError', (_client, err) => { this.log.debug({ err: err.message }, 'connection error') })
    return { mountpoint, broker, persistence, store, mq, persistentClients: tracked.clients, queues }
  }

  /** Messages accepted but not yet queued (or not confirmed by the members they were routed to) when the previous run stopped. */
  private replayJournal (store: LevelPersistence, broker: Aedes): void {
    const pending = store.takeJournal()
    if (pending.length === 0) return
    this.log.info({ messages: pending.length }, 'queueing messages accepted before the last stop')
    for (const packet of pending) broker.publish(packet as Parameters<Aedes['publish']>[0], () => {})
  }

  /**
   * Publishes routed here by a peer, delivered to local subscribers only. They
   * are handed to aedes in order, at once when their mountpoints' instances
   * exist; the promise resolves when all of them are delivered, and the
   * queued copies of QoS 1/2 messages are on disk (the sender then lets go of
   * them: its journal entry, the QoS 2 PUBREC).
   */
  private async deliverRemote (publishes: Publish[]): Promise<void> {
    const missing = publishes.filter(p => !this.running.has(p.mountpoint ?? ''))
    for (const p of missing) await this.instance(p.mountpoint ?? '')
    let pending = publishes.length
    if (pending === 0) return
    await new Promise<void>(resolve => {
      const done = (): void => { if (--pending === 0) resolve() }
      for (const publish of publishes) this.publishRemote(this.running.get(publish.mountpoint ?? '') as Instance, publish, done)
    })
    const durable = new Set<Instance>()
    for (const p of publishes) if ((p.qos ?? 0) > 0) durable.add(this.running.get(p.mountpoint ?? '') as Instance)
    for (const instance of durable) await instance.store.flushed()
  }

  private publishRemote ({ broker, mq }: Instance, publish: Publish, done: () => void): void {
    const packet: RoutedPublish = {
      cmd: 'publish',
      topic: publish.topic ?? '',
      payload: toBuffer(publish.payload),
      qos: (publish.qos ?? 0) as 0 | 1 | 2,
      retain: publish.retain === true,
      dup: false,
      brokerId: publish.origin ?? '',
      brokerCounter: Number(publish.counter ?? 0)
    }
    if (publish.properties !== null && publish.properties !== undefined) {
      const now = Date.now()
      Object.assign(packet, propertiesFromWire(publish.properties, now))
      // its lifetime ended on the way (MQTT-3.3.2-5)
      if (isExpired(packet, now)) { done(); return }
    }
    // delivered with its retain flag (Retain As Published), stored by replication only
    if (packet.retain) this.peerOrigins.add(packet.brokerId)
    const shares = publish.shares ?? []
    const key = shares.length > 0 ? `${packet.brokerId}:${packet.brokerCounter}` : ''
    if (shares.length > 0) mq.shared.designate(key, new Set(shares))
    broker.publish(packet as Parameters<Aedes['publish']>[0], () => {
      if (shares.length > 0) mq.shared.release(key)
      done()
    })
  }

  private async storeRetained (retain: Retain): Promise<void> {
    const { persistence } = await this.instance(retain.mountpoint ?? '')
    const packet = { cmd: 'publish', topic: retain.topic ?? '', payload: toBuffer(retain.payload), qos: retain.qos ?? 0, retain: true }
    await persistence.storeRetained(Object.assign(packet, propertiesFromWire(retain.properties, Date.now())))
  }

  private async retainedMessages (): Promise<Retain[]> {
    const all: Retain[] = []
    for (const pending of this.instances.values()) {
      const { mountpoint, persistence } = await pending
      for await (const p of persistence.createRetainedStreamCombi(['#'])) {
        const now = Date.now()
        if (isExpired(p, now)) continue
        all.push({ mountpoint, topic: p.topic, payload: p.payload, qos: p.qos, properties: propertiesToWire(p, now) })
      }
    }
    return all
  }

  /** The cluster listener as listener show lists it: its bound port and the members linked to it. */
  clusterListenerRow (): ReturnType<typeof clusterListenerRow> {
    const config = this.clusteringListener()
    return clusterListenerRow(config, this.rpc?.port ?? config.port, this.cluster.inboundLinks())
  }

  listenerInfo (): ListenerInfo[] {
    const info = this.listeners.all().map(l => listenerInfo(l.kind, l.config, l.port()))
    const clustering = this.clusteringListener()
    info.push(listenerInfo(clustering.type === 'vmqs' ? 'vmqs' : 'vmq', clustering, this.rpc?.port ?? clustering.port))
    return info
  }

  /** The instance of a mountpoint if one was created (no client ever used an unknown mountpoint). */
  async existingInstance (mountpoint: string): Promise<Instance | undefined> {
    return await this.instances.get(mountpoint)
  }

  async allInstances (): Promise<Instance[]> {
    return await Promise.all(this.instances.values())
  }

  /** Resolves when the node has stopped (by a signal or by leaving the cluster). */
  stopped (): Promise<void> {
    return new Promise(resolve => { this.stopListeners.push(resolve) })
  }

  /** Closes listeners, brokers, stores and the RPC server; safe to call twice. */
  async stop (): Promise<void> {
    this.stopping ??= this.close()
    await this.stopping
  }

  private async close (): Promise<void> {
    this.systree?.stop()
    this.stopRetainExpiry?.()
    this.cluster.close()
    // before the brokers close: nothing arrives from a remote broker for a closed one
    await this.bridges.stop()
    // aedes closes its clients with DISCONNECT 0x8B (server shutting down) for
    // MQTT 5; the listeners stop accepting first and drop what is left after.
    await this.listeners.suspendAll()
    const instances: Instance[] = []
    for (const pending of this.instances.values()) {
      const instance = await pending.catch(() => undefined)
      if (instance === undefined) continue
      instances.push(instance)
      instance.queues.stop()
      await new Promise<void>(resolve => { instance.broker.close(() => resolve()) })
    }
    await this.listeners.closeAll()
    for (const instance of instances) await instance.persistence.destroy().catch(() => {})
    await this.plugins.closeAll()
    this.tracer.endAll()
    await this.rpc?.close()
    this.log.info({ node: this.name }, 'node stopped')
    this.log.flush()
    for (const resolve of this.stopListeners) resolve()
  }
}

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>

/** An authorized QoS 1 PUBLISH is answered and published at once (see acknowledgeAndPublish), after the Receive Maximum count saw its answer. */
function publishAcknowledged (inner: AuthorizePublish): AuthorizePublish {
  return (client, packet, callback) => {
    inner(client, packet, err => {
      if (err != null || client === null || !acknowledgeAndPublish(client, packet, callback)) callback(err)
    })
  }
}
