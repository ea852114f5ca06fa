// One MQTT bridge: an MQTT.js client connected to a remote broker. Messages
// published locally on the `out` lines' topics go to the remote broker (kept in
// a bounded buffer while it is unreachable); messages the remote broker sends
// on the `in` lines' subscriptions are published into the local broker through
// its normal publish path, so cluster routing delivers them on every member.
//
// Loops: a message this bridge published locally carries its marker as
// clientId, and its own local subscriptions skip it, so a `both` line never
// sends back out what came in. Towards the remote broker: with mqtt_version = 5
// the remote subscriptions are No Local, so the remote broker never sends the
// bridge what it published; with 3 or 4, try_private (on by default) sets the
// bridge bit of the protocol level (0x83/0x84), which mosquitto and VerneMQ take
// as "no local" for this connection. A broker that ignores it (or try_private =
// off) echoes: a message sent out on a `both` line comes back once and is
// delivered locally a second time, and is not sent out again.
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import type { Aedes } from 'aedes'
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'
import type { BridgeConfig, BridgeTopic } from '../../config/bridge.js'
import type { Logger } from '../log.js'
import { filterMatches } from '../../mqtt/topic.js'
import { comesIn, goesOut, localFilter, remoteFilter, toLocal, toRemote } from './topics.js'

export type BridgeStatus = 'connecting' | 'connected' | 'disconnected' | 'stopped'

export interface BridgeInfo {
  name: string
  endpoint: string
  transport: string
  status: BridgeStatus
  buffered: number
  bufferMax: number
  dropped: number
  sent: number
  received: number
  lastError: string
}

/** What a bridge needs from its node. */
export interface BridgeHost {
  log: Logger
  /** the aedes instance of a mountpoint */
  broker: (mountpoint: string) => Promise<Aedes>
  /** resolves when what the mountpoint's store has taken so far is on disk */
  flushed: (mountpoint: string) => Promise<void>
  /** stores a retained message on the other cluster members (resolves at once without members) */
  replicateRetained: (mountpoint: string, topic: string, payload: Buffer, qos: number) => Promise<void>
}

interface Outgoing { topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean }

type LocalHandler = (packet: { topic: string, payload: Buffer | string, qos: number, retain: boolean, clientId?: string }, done: () => void) => void

/** No client id may contain U+0000 (MQTT-1.5.4-2): the marker cannot be a client's. */
function markerOf (name: string): string {
  return `\u0000vmq_bridge/${name}`
}

export class Bridge {
  private client: MqttClient | undefined
  private status: BridgeStatus = 'connecting'
  private readonly buffer: Outgoing[] = []
  private dropped = 0
  private sent = 0
  private received = 0
  private lastError = ''
  /** set when dropping starts, cleared when the remote broker is back: one log line per outage */
  private droppingLogged = false
  private readonly marker: string
  private readonly subscriptions: Array<[string, LocalHandler]> = []
  private broker: Aedes | undefined

  constructor (readonly config: BridgeConfig, private readonly host: BridgeHost) {
    this.marker = markerOf(config.name)
  }

  get endpoint (): string {
    const { host, port } = this.config
    return `${host.includes(':') ? `[${host}]` : host}:${port}`
  }

  /** Subscribes locally, then connects (and keeps reconnecting every restart_timeout). */
  async start (): Promise<void> {
    const options = this.clientOptions()
    this.broker = await this.host.broker(this.config.mountpoint)
    for (const line of this.config.topics.filter(goesOut)) await this.subscribeLocally(this.broker, line)
    const client = mqtt.connect(options)
    this.client = client
    client.handleMessage = (packet, done) => { this.fromRemote(packet, done) }
    // try_private: the bridge bit (0x80) on the CONNECT's protocol level. MQTT.js
    // has no option for it; mqtt-packet writes it for a connect packet with
    // bridgeMode, and `packetsend` hands over the packet just before it is written.
    if (this.config.tryPrivate && this.config.mqttVersion !== 5) client.on('packetsend', packet => { if (packet.cmd === 'connect') Object.assign(packet, { bridgeMode: true }) })
    client.on('connect', () => { this.connected(client) })
    client.on('close', () => { this.disconnected() })
    client.on('error', err => { this.failed(err) })
    client.connect()
  }

  private clientOptions (): IClientOptions {
    const c = this.config
    const level = c.mqttVersion
    const options: IClientOptions = {
      host: c.host,
      port: c.port,
      protocol: c.transport === 'ssl' ? 'mqtts' : 'mqtt',
      protocolId: level === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: level,
      clientId: c.clientId,
      clean: c.cleanSession,
      keepalive: c.keepalive,
      reconnectPeriod: c.restartTimeout * 1000,
      connectTimeout: 30_000,
      resubscribe: false,
      queueQoSZero: false,
      // connect() once the listeners are on: the first CONNECT goes through packetsend too
      manualConnect: true
    }
    // MQTT 5 ends a session at disconnect unless told otherwise; cleansession = off keeps it, as in 3.1.1
    if (level === 5 && !c.cleanSession) options.properties = { sessionExpiryInterval: 0xFFFFFFFF }
    if (c.username !== '') options.username = c.username
    if (c.password !== '') options.password = c.password
    if (c.transport === 'ssl') Object.assign(options, this.tlsOptions())
    return options
  }

  /** Passed on to tls.connect by MQTT.js. */
  private tlsOptions (): Partial<ConnectionOptions> {
    const c = this.config
    const read = (key: string, file: string): Buffer | undefined => {
      if (file === '') return undefined
      try {
        return readFileSync(file)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        throw new Error(`vmq_bridge.ssl.${c.name}.${key}: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message}`)
      }
    }
    return {
      ca: read('cafile', c.cafile),
      cert: read('certfile', c.certfile),
      key: read('keyfile', c.keyfile),
      rejectUnauthorized: !c.insecure,
      minVersion: c.tlsVersion === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2',
      servername: isIP(c.host) === 0 ? c.host : undefined
    }
  }

  private async subscribeLocally (broker: Aedes, line: BridgeTopic): Promise<void> {
    const filter = localFilter(line)
    const handler: LocalHandler = (packet, done) => {
      done()
      // the emitter lets `#` match aedes' own $SYS messages too; MQTT matching does not
      if (packet.clientId === this.marker || (packet.topic.startsWith('$') && !filterMatches(filter, packet.topic))) return
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      this.toRemote({ topic: toRemote(line, packet.topic), payload, qos: line.qos, retain: packet.retain })
    }
    await new Promise<void>((resolve, reject) => {
      broker.subscribe(filter, handler as Parameters<Aedes['subscribe']>[1], (err?: Error) => { err === undefined || err === null ? resolve() : reject(err) })
    })
    this.subscriptions.push([filter, handler])
  }

  private toRemote (message: Outgoing): void {
    if (this.status === 'connected' && this.buffer.length === 0) {
      this.publishRemote(message)
      return
    }
    if (this.buffer.length < this.config.maxOutgoingBuffered) {
      this.buffer.push(message)
      return
    }
    this.dropped++
    if (!this.droppingLogged) {
      this.droppingLogged = true
      this.host.log.warn({ bridge: this.config.name, endpoint: this.endpoint, max_outgoing_buffered_messages: this.config.maxOutgoingBuffered },
        'bridge: remote broker unreachable and the outgoing buffer is full; dropping messages until it is back (see dropped in vmq-admin bridge show)')
    }
  }

  private publishRemote (message: Outgoing): void {
    this.sent++
    this.client?.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, err => {
      if (err !== undefined && err !== null) this.host.log.debug({ bridge: this.config.name, topic: message.topic, err: err.message }, 'bridge: publish to the remote broker not completed')
    })
  }

  private connected (client: MqttClient): void {
    this.status = 'connected'
    this.lastError = ''
    this.host.log.info({ bridge: this.config.name, endpoint: this.endpoint }, 'bridge connected')
    const remote = this.config.topics.filter(comesIn)
    if (remote.length > 0) {
      // MQTT 5: No Local, and Retain As Published so retained messages stay retained here
      const v5 = this.config.mqttVersion === 5
      const wanted = Object.fromEntries(remote.map(line => [remoteFilter(line), v5 ? { qos: line.qos, nl: true, rap: true } : { qos: line.qos }]))
      client.subscribe(wanted, (err, granted) => {
        if (err !== null && err !== undefined) { this.host.log.warn({ bridge: this.config.name, err: err.message }, 'bridge: SUBSCRIBE to the remote broker failed'); return }
        const refused = (granted ?? []).filter(g => g.qos === 128).map(g => g.topic)
        if (refused.length > 0) this.host.log.warn({ bridge: this.config.name, topics: refused }, 'bridge: the remote broker refused these subscriptions')
      })
    }
    const backlog = this.buffer.splice(0)
    for (const message of backlog) this.publishRemote(message)
    if (this.droppingLogged) this.host.log.info({ bridge: this.config.name, dropped: this.dropped }, 'bridge: remote broker back; messages are forwarded again')
    this.droppingLogged = false
  }

  private disconnected (): void {
    if (this.status === 'stopped') return
    if (this.status === 'connected') this.host.log.warn({ bridge: this.config.name, endpoint: this.endpoint, restart_timeout: this.config.restartTimeout }, 'bridge disconnected; reconnecting after restart_timeout')
    this.status = 'disconnected'
  }

  private failed (err: Error): void {
    if (err.message === this.lastError) return
    this.lastError = err.message
    this.host.log.warn({ bridge: this.config.name, endpoint: this.endpoint, err: err.message }, 'bridge connection failed')
  }

  /** A message of the remote broker: published locally once per in line it matches, then acknowledged. */
  private fromRemote (packet: IPublishPacket, done: (err?: Error) => void): void {
    const broker = this.broker
    const targets = this.config.topics.filter(comesIn).map(line => toLocal(line, packet.topic)).filter((t): t is string => t !== undefined)
    if (broker === undefined || targets.length === 0) { done(); return }
    this.received++
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    let pending = targets.length
    const finished = (): void => { if (--pending === 0) done() }
    for (const topic of targets) {
      this.publishLocally(broker, topic, payload, packet.qos, packet.retain).then(finished, (err: Error) => {
        this.host.log.warn({ bridge: this.config.name, topic, err: err.message }, 'bridge: cannot publish a remote message locally')
        finished()
      })
    }
  }

  private async publishLocally (broker: Aedes, topic: string, payload: Buffer, qos: number, retain: boolean): Promise<void> {
    if (retain) await this.host.replicateRetained(this.config.mountpoint, topic, payload, qos)
    const packet = { cmd: 'publish' as const, topic, payload, qos: qos as 0 | 1 | 2, retain, dup: false, clientId: this.marker }
    await new Promise<void>((resolve, reject) => {
      broker.publish(packet, (err?: Error) => { err === undefined || err === null ? resolve() : reject(err) })
    })
    // the remote broker forgets a QoS 1/2 message at our acknowledgement: queued copies are on disk first
    if (qos > 0) await this.host.flushed(this.config.mountpoint)
  }

  info (): BridgeInfo {
    return {
      name: this.config.name,
      endpoint: this.endpoint,
      transport: this.config.transport,
      status: this.status,
      buffered: this.buffer.length,
      bufferMax: this.config.maxOutgoingBuffered,
      dropped: this.dropped,
      sent: this.sent,
      received: this.received,
      lastError: this.lastError
    }
  }

  /** Disconnects and removes the local subscriptions (the broker may be closed already when the node stops). */
  async stop (): Promise<void> {
    this.status = 'stopped'
    const client = this.client
    if (client !== undefined) await new Promise<void>(resolve => { client.end(true, {}, () => { resolve() }) })
    const broker = this.broker
    if (broker === undefined || broker.closed) return
    for (const [filter, handler] of this.subscriptions.splice(0)) {
      await new Promise<void>(resolve => { broker.unsubscribe(filter, handler as Parameters<Aedes['unsubscribe']>[1], () => { resolve() }) })
    }
  }
}
