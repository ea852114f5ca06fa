// MQTT 5 Server Reference (§3.14.2.2.5, §4.11): where a client of a node that
// leaves the cluster with -k connects instead. Members tell each other their
// MQTT listeners (Member.mqtt in the cluster protocol); a client is referred to
// a listener of the member its session moves to with the same transport (it
// reconnects with the one it has) and the same mountpoint (its session lives
// under it). The spec leaves the format open: host:port for TCP and TLS
// listeners, ws://host:port/mqtt and wss://host:port/mqtt for WebSocket ones.
import type { Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import type { MqttEndpoint } from '../rpc/generated/vmq/MqttEndpoint.js'
import { getMeta } from './client-meta.js'
import { describeAddress, listenerMountpoint, type ListenerKind, type MqttListener } from './listeners/types.js'
import { WS_PATH } from './listeners/ws.js'

/** MQTT listener kinds in the order they are reported: plain TCP first. */
const KINDS: readonly ListenerKind[] = ['mqtt', 'mqtts', 'mqttws', 'mqttwss']

/**
 * The running MQTT listeners as clients reach them. One bound to every
 * interface (0.0.0.0, ::) is named by `host`: the host peers reach this node's
 * clustering listener at, the best guess of an address its clients can reach.
 */
export function mqttEndpoints (listeners: readonly MqttListener[], host: string): MqttEndpoint[] {
  return KINDS.flatMap(kind => listeners
    .filter(l => l.kind === kind && l.status === 'running')
    .map(l => ({ kind, address: endpointAddress(kind, isWildcard(l.config.host) ? host : l.config.host, l.port()), mountpoint: listenerMountpoint(l.config) })))
}

function isWildcard (host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === ''
}

function endpointAddress (kind: ListenerKind, host: string, port: number): string {
  const hostPort = describeAddress({ host, port })
  if (kind === 'mqttws') return `ws://${hostPort}${WS_PATH}`
  if (kind === 'mqttwss') return `wss://${hostPort}${WS_PATH}`
  return hostPort
}

/** The host of `host:port` or `[v6]:port`. */
export function hostOf (address: string): string {
  return address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
}

/**
 * The DISCONNECT properties that send `client` to one of `endpoints`: a
 * listener of its transport and mountpoint; none when there is no such
 * listener or the property would make the packet larger than the client
 * accepts (MQTT-3.1.2-24).
 */
export function referTo (client: Client, reasonCode: number, endpoints: readonly MqttEndpoint[]): { serverReference: string } | undefined {
  const meta = getMeta(client)
  if (meta === undefined) return undefined
  const address = endpointFor(endpoints, meta.listener.kind, meta.mountpoint)
  if (address === undefined) return undefined
  const properties = { serverReference: address }
  const size = mqttPacket.generate({ cmd: 'disconnect', reasonCode, properties }, { protocolVersion: 5 }).length
  return size > (client.maximumPacketSize ?? Infinity) ? undefined : properties
}

/** The address of the first endpoint of a transport and mountpoint. */
export function endpointFor (endpoints: readonly MqttEndpoint[], kind: ListenerKind, mountpoint: string): string | undefined {
  const address = endpoints.find(e => e.kind === kind && (e.mountpoint ?? '') === mountpoint)?.address
  return address === '' ? undefined : address
}
