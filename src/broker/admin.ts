// The node's answers to the Admin service.
import { findKey } from '../config/schema.js'
import { SettingError } from '../config/settings.js'
import { InvalidRequest } from '../rpc/errors.js'
import type { AdminImpl } from '../rpc/server.js'
import { toTable } from '../rpc/table.js'
import { ListenError } from './listeners/listen.js'
import { ListenerOpError } from './listeners/registry.js'
import { runtimeListenerConfig } from './listeners/runtime.js'
import { listenerColumns, listenerRow } from './listeners/show.js'
import { TlsConfigError } from './listeners/tls-context.js'
import { describeAddress } from './listeners/types.js'
import { StartError, type BrokerNode } from './node.js'

const DONE = { text: 'Done' }

export function adminService (node: BrokerNode): AdminImpl {
  return {
    ClusterShow: async () => toTable(['Node', 'Running'], [{ Node: node.name, Running: true }]),

    ConfigShow: async ({ keys }) => {
      const unknown = (keys ?? []).filter(k => findKey(k) === undefined)
      if (unknown.length > 0) throw new InvalidRequest(`Invalid config keys: ${unknown.join(', ')}`)
      const row: Record<string, string> = { node: node.name }
      for (const key of keys ?? []) row[key] = node.settings.show(key)
      return toTable(['node', ...(keys ?? [])], [row])
    },

    ConfigSet: async ({ values }) => {
      try {
        node.settings.set(values ?? {})
      } catch (err) {
        if (err instanceof SettingError) throw new InvalidRequest(err.message)
        throw err
      }
      node.log.info({ values }, 'configuration changed with vmq-admin set')
      return { text: '' }
    },

    ListenerShow: async ({ tls, mqtt }) => toTable(listenerColumns({ tls, mqtt }), node.listeners.all().map(listenerRow)),

    ListenerStart: async (req) => await operatorAction("can't start listener", async () => {
      const listener = await node.listeners.start(runtimeListenerConfig(node.config.listenerOptions, req))
      node.log.info({ listener: listener.kind, address: describeAddress({ host: listener.config.host, port: listener.port() }) }, 'listener started with vmq-admin')
    }),

    ListenerStop: async ({ address, port, killSessions: kill }) => await operatorAction("can't stop listener", async () => {
      await node.listeners.stop(address, port, kill)
      node.log.info({ address: describeAddress({ host: address, port }), kill_sessions: kill }, 'listener stopped with vmq-admin')
    }),

    ListenerRestart: async ({ address, port }) => await operatorAction("can't restart listener", async () => {
      await node.listeners.restart(address, port)
      node.log.info({ address: describeAddress({ host: address, port }) }, 'listener restarted with vmq-admin')
    }),

    ListenerDelete: async ({ address, port }) => await operatorAction("can't delete listener", async () => {
      await node.listeners.delete(address, port)
      node.log.info({ address: describeAddress({ host: address, port }) }, 'listener deleted with vmq-admin')
    }),

    TlsClearPemCache: async () => {
      node.listeners.reloadCertificates()
      return DONE
    }
  }
}

/** Runs an operator's listener action; its expected failures become one-line refusals. */
async function operatorAction (what: string, action: () => Promise<void>): Promise<{ text: string }> {
  try {
    await action()
    return DONE
  } catch (err) {
    if (err instanceof ListenerOpError) throw new InvalidRequest(err.message)
    if (err instanceof TlsConfigError || err instanceof ListenError || err instanceof StartError) throw new InvalidRequest(`${what}: ${err.message}`)
    throw err
  }
}
