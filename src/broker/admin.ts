// The node's answers to the Admin service.
import { findKey } from '../config/schema.js'
import { SettingError } from '../config/settings.js'
import { InvalidRequest } from '../rpc/errors.js'
import type { AdminImpl } from '../rpc/server.js'
import { toTable } from '../rpc/table.js'
import type { BrokerNode } from './node.js'

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
    }
  }
}
