// The node's answers to the Admin service.
import type * as grpc from '@grpc/grpc-js'
import { findKey } from '../config/schema.js'
import { SettingError } from '../config/settings.js'
import { InvalidRequest } from '../rpc/errors.js'
import type { AdminHandlers } from '../rpc/generated/vmq/Admin.js'
import type { ClusterLeaveRequest__Output } from '../rpc/generated/vmq/ClusterLeaveRequest.js'
import type { TextReply } from '../rpc/generated/vmq/TextReply.js'
import { toStatus, unary } from '../rpc/server.js'
import { toTable } from '../rpc/table.js'
import type { BrokerNode } from './node.js'

export function adminService (node: BrokerNode): AdminHandlers {
  return {
    ClusterShow: unary(async () => toTable(['Node', 'Running'], node.cluster.show().map(m => ({ Node: m.name, Running: m.running })))),

    ClusterJoin: unary(async ({ discoveryNode: discovery }) => {
      await node.cluster.join(discovery)
      return { text: 'Done' }
    }),

    ClusterLeave: (call: grpc.ServerWritableStream<ClusterLeaveRequest__Output, TextReply>) => {
      const { node: target, killSessions: kill, timeoutSeconds: timeout } = call.request
      node.cluster.leave(target, { kill, timeoutSeconds: timeout || 60, progress: text => call.write({ text }) }).then(
        text => { call.write({ text }); call.end() },
        (err: Error) => { call.emit('error', toStatus(err)) })
    },

    ConfigShow: unary(async ({ keys }) => {
      const unknown = keys.filter(k => findKey(k) === undefined)
      if (unknown.length > 0) throw new InvalidRequest(`Invalid config keys: ${unknown.join(', ')}`)
      const row: Record<string, string> = { node: node.name }
      for (const key of keys) row[key] = node.settings.show(key)
      return toTable(['node', ...keys], [row])
    }),

    ConfigSet: unary(async ({ values }) => {
      try {
        node.settings.set(values)
      } catch (err) {
        if (err instanceof SettingError) throw new InvalidRequest(err.message)
        throw err
      }
      node.log.info({ values }, 'configuration changed with vmq-admin set')
      return { text: '' }
    })
  }
}
