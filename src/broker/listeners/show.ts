// The table of `vmq-admin listener show`, with VerneMQ's columns.
import type { CellValue } from '../../rpc/table.js'
import { maxConnections, type MqttListener } from './types.js'

export const BASE_COLUMNS = ['type', 'status', 'address', 'port', 'mountpoint', 'max_conns', 'active_conns', 'all_conns']
export const TLS_COLUMNS = ['tls_version', 'certfile', 'cafile', 'keyfile', 'require_certificate', 'use_identity_as_username', 'psk_support', 'pskfile']
export const MQTT_COLUMNS = ['allowed_protocol_versions', 'allow_anonymous_override']

export function listenerColumns (opts: { tls: boolean, mqtt: boolean }): string[] {
  return [...BASE_COLUMNS, ...(opts.tls ? TLS_COLUMNS : []), ...(opts.mqtt ? MQTT_COLUMNS : [])]
}

export function listenerRow (listener: MqttListener): Record<string, CellValue> {
  const option = (name: string): CellValue => {
    const value = listener.config.options.get(name)
    return value === undefined || value === '' ? null : value
  }
  const max = maxConnections(listener.config)
  const isTls = listener.kind === 'mqtts' || listener.kind === 'mqttwss' || listener.kind === 'https'
  return {
    type: listener.kind,
    status: listener.status,
    address: listener.config.host,
    port: String(listener.port()),
    mountpoint: String(listener.config.options.get('mountpoint') ?? ''),
    max_conns: Number.isFinite(max) ? max : 'infinity',
    active_conns: listener.connections(),
    all_conns: listener.connections(),
    tls_version: isTls ? option('tls_version') : null,
    certfile: isTls ? option('certfile') : null,
    cafile: isTls ? option('cafile') : null,
    keyfile: isTls ? option('keyfile') : null,
    require_certificate: isTls ? option('require_certificate') : null,
    use_identity_as_username: isTls ? option('use_identity_as_username') : null,
    psk_support: isTls ? false : null,
    pskfile: null,
    allowed_protocol_versions: option('allowed_protocol_versions'),
    allow_anonymous_override: option('allow_anonymous_override')
  }
}
