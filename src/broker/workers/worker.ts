// A worker process: a node whose MQTT connections come from the primary.
import type { Socket } from 'node:net'
import type { NodeConfig } from '../../config/load.js'
import { BrokerNode } from '../node.js'
import { listenerKey } from '../listeners/types.js'
import { WORKER_DISCOVERY_ENV, WORKER_INDEX_ENV, WORKER_PORTS_ENV, type ToPrimary, type ToWorker } from './protocol.js'
import { workerConfig } from './worker-config.js'

export function isWorker (env: NodeJS.ProcessEnv = process.env): boolean {
  return env[WORKER_INDEX_ENV] !== undefined
}

export async function runWorker (config: NodeConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const index = Number(env[WORKER_INDEX_ENV])
  const ports = JSON.parse(env[WORKER_PORTS_ENV] ?? '{}') as Record<string, number>
  const send = (message: ToPrimary): void => { process.send?.(message) }
  let node: BrokerNode
  try {
    node = await BrokerNode.start(workerConfig(config, index, env[WORKER_DISCOVERY_ENV], ports))
  } catch (err) {
    send({ type: 'failed', message: (err as Error).message })
    process.exitCode = 1
    return
  }
  const stopped = node.stopped()
  process.on('message', (message: ToWorker, socket?: Socket) => {
    if (message.type === 'stop') void node.stop()
    if (message.type === 'socket' && socket !== undefined) {
      const listener = node.listeners.all().find(l => listenerKey(l.config) === message.listener)
      if (listener?.adopt !== undefined) listener.adopt(socket)
      else socket.destroy()
    }
  })
  // The primary going away (crash or kill) takes its workers with it.
  process.on('disconnect', () => { void node.stop() })
  process.on('SIGINT', () => {}) // Ctrl-C reaches the whole group; the primary decides
  process.on('SIGTERM', () => { void node.stop() })
  send({ type: 'ready', name: node.name, listeners: node.listenerInfo(), clusterAddress: node.clusterAddressForWorkers() })
  await stopped
  // the IPC channel would keep the process alive
  if (process.connected) process.disconnect()
}
