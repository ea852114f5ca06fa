// What changes in a worker's configuration: its name, data dir, clustering
// address (worker 0 keeps the configured one, the others take a free port),
// the cluster to join, MQTT listeners it does not bind itself, and bridges
// (worker 0 runs them).
import { join } from 'node:path'
import type { NodeConfig } from '../../config/load.js'
import { workerName } from './protocol.js'

const MQTT_TYPES = ['tcp', 'ssl', 'ws', 'wss']

export function workerConfig (config: NodeConfig, index: number, discovery: string | undefined, ports: Record<string, number>): NodeConfig {
  const values = new Map(config.values)
  values.set('nodename', workerName(String(values.get('nodename')), index))
  values.set('persistent_dir', join(String(values.get('persistent_dir')), `worker${index}`))
  if (index > 0 && discovery !== undefined) values.set('discovery_node', discovery)
  // one HTTP listener per address: worker 0's (its /metrics counts its own clients only)
  const listeners = config.listeners.filter(l => index === 0 || (l.type !== 'http' && l.type !== 'https')).map(l => {
    if (MQTT_TYPES.includes(l.type)) return { ...l, port: ports[`${l.type}.${l.name}`] ?? l.port, external: true }
    if ((l.type === 'vmq' || l.type === 'vmqs') && index > 0) return { ...l, port: 0 }
    return l
  })
  // one connection per bridge: worker 0's (it forwards what every worker's clients publish)
  return { ...config, values, listeners, bridges: index === 0 ? config.bridges : [] }
}
