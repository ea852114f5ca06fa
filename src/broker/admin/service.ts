// The node's answers to the Admin service.
import type * as grpc from '@grpc/grpc-js'
import { findKey } from '../../config/schema.js'
import { askPeers } from '../../cluster/fanout.js'
import { CodedError, InvalidRequest, NotFound } from '../../errors.js'
import type { AdminHandlers } from '../../rpc/generated/vmq/Admin.js'
import type { ClusterLeaveRequest__Output } from '../../rpc/generated/vmq/ClusterLeaveRequest.js'
import type { TextReply } from '../../rpc/generated/vmq/TextReply.js'
import { toStatus, unary } from '../../rpc/server.js'
import type { QueryReply, QueryReply__Output } from '../../rpc/generated/vmq/QueryReply.js'
import type { QueryRequest__Output } from '../../rpc/generated/vmq/QueryRequest.js'
import type { SessionRequest__Output } from '../../rpc/generated/vmq/SessionRequest.js'
import { fromTable, toTable } from '../../rpc/table.js'
import { compileQuery, project, sortRows } from './query.js'
import { RETAIN_SHAPE, deleteRetained, localRetainedRows } from './retained.js'
import { SESSION_SHAPE, disconnectLocal, localSessionRows, reauthorizeLocal } from './sessions.js'
import { siblingNames } from '../workers/protocol.js'
import { ListenerOpError } from '../listeners/registry.js'
import { runtimeListenerConfig } from '../listeners/runtime.js'
import { listenerColumns, listenerRow } from '../listeners/show.js'
import { describeAddress } from '../listeners/types.js'
import type { AdminHost } from './host.js'
import { statusEntry } from '../monitoring/node-status.js'
import { metricsReset, metricsShow, nodeStatus } from './metrics.js'
import { traceClient } from './trace.js'
import { apiKeyAdmin } from './api-keys.js'
import { webhooksAdmin } from './webhooks.js'
import { bridgeShow } from './bridges.js'

const DONE = { text: 'Done' }

export function adminService (node: AdminHost): AdminHandlers {
  return {
    ...webhooksAdmin(node.plugins),
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

    ConfigSet: unary(async ({ values, localOnly }) => {
      node.settings.set(values)
      await node.settings.settled()
      node.log.info({ values }, 'configuration changed with vmq-admin set')
      if (!localOnly) await setOnSiblings(node, values)
      return { text: '' }
    }),

    SessionShow: unary(async request => await sessionShow(node, request)),

    SessionDisconnect: unary(async request => {
      const { clientId, mountpoint, cleanup } = checkSession(request)
      if (await disconnectLocal(node, mountpoint, clientId, cleanup)) return DONE
      return { text: await onPeers(node, 'SessionDisconnect', request, () => 'Done') }
    }),

    SessionReauthorize: unary(async request => {
      const { clientId, mountpoint, username } = checkSession(request)
      if (username === '') throw new InvalidRequest('You have to provide a username (username=<name>)')
      const local = await reauthorizeLocal(node, mountpoint, clientId, username)
      if (local !== undefined) return { text: local }
      return { text: await onPeers(node, 'SessionReauthorize', request, texts => texts.includes('Done') ? 'Done' : 'Unchanged') }
    }),

    RetainShow: unary(async request => {
      const query = compileQuery(RETAIN_SHAPE, request)
      return { table: toTable(query.columns, await localRetainedRows(node, query)), warnings: [] }
    }),

    RetainDelete: unary(async ({ topic, mountpoint }) => {
      await deleteRetained(node, mountpoint, topic)
      return { text: 'Done' }
    }),

    PluginShow: unary(async () => toTable(['Plugin', 'Type', 'Hook(s)'], node.plugins.running().map(p => ({
      Plugin: p.name, Type: 'application', 'Hook(s)': p.hooks.join('\n')
    })))),

    BridgeShow: unary(async () => bridgeShow(node)),

    PluginEnable: unary(async ({ name }) => {
      await node.plugins.enable(name)
      return { text: 'Done' }
    }),

    PluginDisable: unary(async ({ name }) => {
      await node.plugins.disable(name)
      return { text: 'Done' }
    }),

    ListenerShow: unary(async ({ tls, mqtt }) => toTable(listenerColumns({ tls, mqtt }), [...node.listeners.all().map(listenerRow), node.clusterListenerRow()])),

    ListenerStart: unary(async (req) => await operatorAction("can't start listener", async () => {
      const listener = await node.listeners.start(runtimeListenerConfig(node.config.listenerOptions, req))
      node.log.info({ listener: listener.kind, address: describeAddress({ host: listener.config.host, port: listener.port() }) }, 'listener started with vmq-admin')
    })),

    ListenerStop: unary(async ({ address, port, killSessions: kill }) => await operatorAction("can't stop listener", async () => {
      refuseClusterListener(node, 'stop', address, port)
      await node.listeners.stop(address, port, kill)
      node.log.info({ address: describeAddress({ host: address, port }), kill_sessions: kill }, 'listener stopped with vmq-admin')
    })),

    ListenerRestart: unary(async ({ address, port }) => await operatorAction("can't restart listener", async () => {
      refuseClusterListener(node, 'restart', address, port)
      await node.listeners.restart(address, port)
      node.log.info({ address: describeAddress({ host: address, port }) }, 'listener restarted with vmq-admin')
    })),

    ListenerDelete: unary(async ({ address, port }) => await operatorAction("can't delete listener", async () => {
      refuseClusterListener(node, 'delete', address, port)
      await node.listeners.delete(address, port)
      node.log.info({ address: describeAddress({ host: address, port }) }, 'listener deleted with vmq-admin')
    })),

    TlsClearPemCache: unary(async () => {
      node.listeners.reloadCertificates()
      return DONE
    }),

    StatusEntry: unary(async () => await statusEntry(node)),

    MetricsShow: unary(async request => await metricsShow(node, request)),

    MetricsReset: unary(async request => await metricsReset(node, request)),

    NodeStatus: unary(async () => await nodeStatus(node)),

    TraceClient: call => { traceClient(node, call) },

    ...apiKeyAdmin(node)
  }
}

/**
 * This node's sessions, and (unless asked by a peer) those of every running
 * member. A peer answers with the sort fields as extra columns so the rows of
 * all members merge in one order.
 */
async function sessionShow (node: AdminHost, request: QueryRequest__Output): Promise<QueryReply> {
  const query = compileQuery(SESSION_SHAPE, request)
  const rows = await localSessionRows(node, query)
  if (request.localOnly) return { table: toTable([...new Set([...query.order, ...query.columns])], rows), warnings: [] }
  const peers = await askPeers<QueryRequest__Output, QueryReply__Output>(node.cluster, 'SessionShow', { ...request, localOnly: true })
  for (const { reply } of peers.answers) if (reply.table !== null) rows.push(...fromTable(reply.table))
  const merged = sortRows(rows, query.order).slice(0, query.limit).map(row => project(query, row))
  return { table: toTable(query.columns, merged), warnings: peers.warnings.map(w => `${w}: its sessions are not listed`) }
}

function checkSession (request: SessionRequest__Output): SessionRequest__Output {
  if (request.clientId === '') throw new InvalidRequest('You have to provide a client-id (client-id=<id>)')
  return request
}

/**
 * A session operation this node could not do itself: asked of every running
 * member; NOT_FOUND when none has the session (naming the members not asked).
 */
async function onPeers (node: AdminHost, method: 'SessionDisconnect' | 'SessionReauthorize', request: SessionRequest__Output, combine: (texts: string[]) => string): Promise<string> {
  const where = request.mountpoint === '' ? '' : ` in mountpoint "${request.mountpoint}"`
  const notHere = new NotFound(`No session found for client-id "${request.clientId}"${where}`)
  if (request.localOnly) throw notHere
  const peers = await askPeers<SessionRequest__Output, TextReply>(node.cluster, method, { ...request, localOnly: true })
  if (peers.answers.length > 0) return combine(peers.answers.map(a => a.reply.text ?? ''))
  if (peers.warnings.length > 0) notHere.message += `; not asked: ${peers.warnings.join('; ')}`
  throw notHere
}

/** With workers > 1, a setting applies to every worker of this machine's node. */
async function setOnSiblings (node: AdminHost, values: Record<string, string>): Promise<void> {
  for (const name of siblingNames(node.name)) {
    const address = node.cluster.runningAddress(name)
    if (address === undefined) {
      node.log.warn({ worker: name }, 'setting not passed on: the worker is not running')
      continue
    }
    await node.cluster.adminClient(address).call('ConfigSet', { values, localOnly: true })
  }
}

/** listener show lists the cluster listener, but it is the gRPC server: it runs as long as the node does. */
function refuseClusterListener (node: AdminHost, verb: string, address: string, port: number): void {
  const row = node.clusterListenerRow()
  if (String(row.address) === address.replace(/^\[(.*)\]$/, '$1') && row.port === String(port)) {
    throw new ListenerOpError(`can't ${verb} listener: ${describeAddress({ host: String(row.address), port })} is the cluster listener (admin and cluster traffic); it runs as long as the node`)
  }
}

/** Runs an operator's listener action; its expected failures become one-line refusals. */
async function operatorAction (what: string, action: () => Promise<void>): Promise<{ text: string }> {
  if (siblingNames('').length > 0 || process.env.VMQ_WORKER_INDEX !== undefined) {
    throw new InvalidRequest(`${what}: not available with workers > 1 (the MQTT ports belong to the primary process)`)
  }
  try {
    await action()
    return DONE
  } catch (err) {
    // the listener's own refusals name it already; the others get the action as context
    if (err instanceof CodedError && !(err instanceof ListenerOpError)) err.message = `${what}: ${err.message}`
    throw err
  }
}
