// The configuration of a listener started with `vmq-admin listener start`:
// the options the operator gave, else the type-wide and global listener
// options of the node's config, else the defaults.
import { isIP } from 'node:net'
import { resolveOptions, type ListenerConfig, type NodeConfig } from '../../config/load.js'
import { findListenerOption } from '../../config/schema.js'
import { parseValue, unquote } from '../../config/values.js'
import { ListenerOpError } from './registry.js'
import { describeAddress } from './types.js'

export interface RuntimeListenerRequest {
  address: string
  port: number
  websocket: boolean
  ssl: boolean
  /** an HTTP listener (https with ssl) */
  http?: boolean
  /** listener options as written on the command line (`--max_connections=10` -> max_connections: '10') */
  options: Record<string, string>
}

export function runtimeListenerConfig (scopes: NodeConfig['listenerOptions'], req: RuntimeListenerRequest): ListenerConfig {
  const host = req.address.replace(/^\[(.*)\]$/, '$1')
  if (isIP(host) === 0) throw new ListenerOpError(`Invalid argument address=${req.address}: expected an IP address`)
  if (!Number.isInteger(req.port) || req.port < 0 || req.port > 65535) throw new ListenerOpError(`Invalid argument port=${req.port}: expected a port from 0 to 65535`)
  if (req.http === true && req.websocket) throw new ListenerOpError('--http and --websocket: an HTTP listener serves no MQTT; give one of them')
  const type = req.http === true ? (req.ssl ? 'https' : 'http') : req.ssl ? (req.websocket ? 'wss' : 'ssl') : (req.websocket ? 'ws' : 'tcp')
  const options = resolveOptions(scopes, type, '')
  for (const [name, raw] of Object.entries(req.options)) {
    const def = findListenerOption(name)
    if (def === undefined) throw new ListenerOpError(`Invalid flag --${name}: not a listener option`)
    const parsed = name === 'mountpoint' && unquote(raw) === 'off' ? { ok: true as const, value: '' } : parseValue(def.type, raw)
    if (!parsed.ok) throw new ListenerOpError(`Invalid flag --${name}=${raw}: expected ${parsed.expected}`)
    options.set(name, parsed.value)
  }
  return { type, name: describeAddress({ host, port: req.port }), host, port: req.port, options, runtime: true }
}
