// The node's answers to `vmq-admin api-key ...`. A key is checked against the
// policy (min_apikey_length, max_apikey_expiry_days) on the node asked, then
// stored there and on every running member, as VerneMQ keeps keys cluster-wide;
// a member that was away pulls the records it missed when its link comes back.
// Nothing here logs a key.
import { askPeers, FANOUT_DEADLINE_MS } from '../../cluster/fanout.js'
import type { ApiKeyRecords, ApiKeyRecords__Output } from '../../rpc/generated/vmq/ApiKeyRecords.js'
import type { ApiKeyRecord as WireRecord, ApiKeyRecord__Output as WireRecordOutput } from '../../rpc/generated/vmq/ApiKeyRecord.js'
import { InvalidRequest, NotFound } from '../../errors.js'
import type { AdminHandlers } from '../../rpc/generated/vmq/Admin.js'
import type { ApiKeyReply } from '../../rpc/generated/vmq/ApiKeyReply.js'
import type { ApiKeyRequest, ApiKeyRequest__Output } from '../../rpc/generated/vmq/ApiKeyRequest.js'
import { unary } from '../../rpc/server.js'
import { toTable } from '../../rpc/table.js'
import { ApiKeyError, DEFAULT_SCOPE, checkScope, formatUtc, generateKey, isScope, parseExpiry, type ApiKey, type ApiKeyPolicy, type ApiKeyRecord } from '../api-keys.js'
import type { AdminHost } from './host.js'

type Handlers = Pick<AdminHandlers, 'ApiKeyCreate' | 'ApiKeyAdd' | 'ApiKeyDelete' | 'ApiKeyShow' | 'ApiKeySync'>

export function apiKeyAdmin (node: AdminHost): Handlers {
  return {
    ApiKeyCreate: unary(async request => {
      const entry = checked(() => ({ ...entryOf(request), key: generateKey(policy(node).minLength) }))
      const record = checked(() => node.apiKeys.add(entry, policy(node)))
      node.log.info({ scope: entry.scope, expires: expiresText(entry) }, 'API key created with vmq-admin')
      return { text: entry.key, warnings: await passOn(node, 'ApiKeyAdd', record) }
    }),

    ApiKeyAdd: unary(async request => {
      const entry = checked(() => entryOf(request))
      if (request.localOnly) {
        node.apiKeys.merge([{ ...entry, changed: request.changedMs }])
        return { text: 'Done', warnings: [] }
      }
      const record = checked(() => node.apiKeys.add(entry, policy(node)))
      node.log.info({ scope: entry.scope, expires: expiresText(entry) }, 'API key added with vmq-admin')
      return { text: 'Done', warnings: await passOn(node, 'ApiKeyAdd', record) }
    }),

    ApiKeyDelete: unary(async request => {
      const scope = checked(() => checkScope(request.scope === '' ? DEFAULT_SCOPE : request.scope))
      if (request.localOnly) {
        if (!node.apiKeys.list(scope).some(k => k.key === request.key)) throw new NotFound('API key not found')
        node.apiKeys.merge([{ key: request.key, scope, changed: request.changedMs, deleted: true }])
        return { text: 'Done', warnings: [] }
      }
      const deleted = node.apiKeys.delete(request.key, scope)
      const peers = await askPeers<ApiKeyRequest, ApiKeyReply>(node.cluster, 'ApiKeyDelete',
        { key: request.key, scope, localOnly: true, changedMs: deleted?.changed ?? Date.now() })
      if (deleted === undefined && peers.answers.length === 0) throw new NotFound(`API key not found in scope ${scope}`)
      node.log.info({ scope }, 'API key deleted with vmq-admin')
      return { text: 'Done', warnings: notReached(peers.warnings) }
    }),

    ApiKeyShow: unary(async ({ scope }) => {
      const wanted = scope === '' || scope === 'all' ? undefined : checked(() => checkScope(scope))
      const now = Date.now()
      return toTable(['Key', 'Scope', 'Expires (UTC)', 'has expired'], node.apiKeys.list(wanted).map(k => ({
        Key: k.key,
        Scope: k.scope,
        'Expires (UTC)': k.expires === undefined ? 'never' : formatUtc(k.expires),
        'has expired': k.expires !== undefined && k.expires <= now
      })))
    }),

    ApiKeySync: unary(async (): Promise<ApiKeyRecords> => ({ keys: node.apiKeys.all().map(toWire) }))
  }
}

/** Takes the records a member that just became reachable has and this node lacks. */
export async function catchUpApiKeys (node: AdminHost, member: string, address: string): Promise<void> {
  const client = node.cluster.adminClient(address, FANOUT_DEADLINE_MS)
  try {
    const reply = await client.call<object, ApiKeyRecords__Output>('ApiKeySync', {})
    const records = reply.keys.filter(k => isScope(k.scope)).map(fromWire)
    if (node.apiKeys.merge(records)) node.log.info({ member }, 'API keys updated from a cluster member')
  } catch (err) {
    node.log.warn({ member, err: (err as Error).message }, 'cannot fetch the API keys of a cluster member')
  }
}

function toWire (r: ApiKeyRecord): WireRecord {
  return { key: r.key, scope: r.scope, expiresMs: r.expires ?? 0, changedMs: r.changed, deleted: r.deleted === true }
}

function fromWire (r: WireRecordOutput): ApiKeyRecord {
  const record: ApiKeyRecord = { key: r.key, scope: checkScope(r.scope), changed: Number(r.changedMs) }
  if (Number(r.expiresMs) > 0) record.expires = Number(r.expiresMs)
  if (r.deleted) record.deleted = true
  return record
}

function entryOf (request: ApiKeyRequest__Output): ApiKey {
  const scope = checkScope(request.scope === '' ? DEFAULT_SCOPE : request.scope)
  return { key: request.key, scope, expires: request.expires === '' ? undefined : parseExpiry(request.expires) }
}

function expiresText (entry: ApiKey): string {
  return entry.expires === undefined ? 'never' : formatUtc(entry.expires)
}

function policy (node: AdminHost): ApiKeyPolicy {
  return { minLength: node.settings.number('min_apikey_length'), maxExpiryDays: node.settings.number('max_apikey_expiry_days') }
}

/** Runs a step whose ApiKeyError is the operator's mistake: INVALID_ARGUMENT, exit 1. */
function checked<T> (step: () => T): T {
  try {
    return step()
  } catch (err) {
    if (err instanceof ApiKeyError) throw new InvalidRequest(err.message)
    throw err
  }
}

/** Stores the key on every running member; one line per member it did not reach. */
async function passOn (node: AdminHost, method: 'ApiKeyAdd', record: ApiKeyRecord): Promise<string[]> {
  const expires = record.expires === undefined ? '' : new Date(record.expires).toISOString().slice(0, 19) + 'Z'
  const peers = await askPeers<ApiKeyRequest, ApiKeyReply>(node.cluster, method,
    { key: record.key, scope: record.scope, expires, localOnly: true, changedMs: record.changed })
  return notReached(peers.warnings)
}

function notReached (warnings: string[]): string[] {
  return warnings.map(w => `${w}: it gets the change when it is reachable again`)
}

