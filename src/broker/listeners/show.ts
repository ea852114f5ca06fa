// The table of `vmq-admin listener show`, with VerneMQ's columns.
import type { CellValue } from '../../rpc/table.js'
import type { ListenerConfig } from '../../config/load.js'
import { maxConnections, type ListenerKind, type ListenerStatus, type MqttListener } from './types.js'

export const BASE_COLUMNS = ['type', 'status', 'address', 'port', 'mountpoint', 'max_conns', 'active_conns', 'all_conns']
export const TLS_COLUMNS = ['tls_version', 'certfile', 'cafile', 'keyfile', 'require_certificate', 'use_identity_as_username', 'psk_support', 'pskfile']
export const MQTT_COLUMNS = ['allowed_protocol_versions', 'allow_anonymous_override']

export function listenerColumns (opts: { tls: boolean, mqtt: boolean }): string[] {
  return [...BASE_COLUMNS, ...(opts.tls ? TLS_COLUMNS : []), ...(opts.mqtt ? MQTT_COLUMNS : [])]
}

export function listenerRow (listener: MqttListener): Record<string, CellValue> {
  return row(listener.kind, listener.status, listener.config, listener.port(), listener.connections(), maxConnections(listener.config))
}

/**
 * The cluster listener (served by the gRPC server, not an MqttListener): its
 * bound port, as connections the members linked to it, and no connection
 * limit (the gRPC server has none).
 */
export function clusterListenerRow (config: ListenerConfig, port: number, peerLinks: number): Record<string, CellValue> {
  return row(config.type === 'vmqs' ? 'vmqs' : 'vmq', 'running', config, port, peerLinks, Infinity)
}

function row (kind: ListenerKind, status: ListenerStatus, config: ListenerConfig, port: number, connections: number, max: number): Record<string, CellValue> {
  const isCluster = kind === 'vmq' || kind === 'vmqs'
  const option = (name: string): CellValue => {
    const value = config.options.get(name)
    return value === undefined || value === '' ? null : value
  }
  const isTls = kind === 'mqtts' || kind === 'mqttwss' || kind === 'https' || kind === 'vmqs'
  return {
    type: kind,
    status,
    address: config.host,
    port: String(port),
    mountpoint: String(config.options.get('mountpoint') ?? ''),
    max_conns: Number.isFinite(max) ? max : 'infinity',
    active_conns: connections,
    all_conns: connections,
    tls_version: isTls ? option('tls_version') : null,
    certfile: isTls ? option('certfile') : null,
    cafile: isTls ? option('cafile') : null,
    keyfile: isTls ? option('keyfile') : null,
    require_certificate: isTls ? option('require_certificate') : null,
    use_identity_as_username: isTls ? option('use_identity_as_username') : null,
    psk_support: isTls ? false : null,
    pskfile: null,
    allowed_protocol_versions: isCluster ? null : option('allowed_protocol_versions'),
    allow_anonymous_override: isCluster ? null : option('allow_anonymous_override')
  }
}
