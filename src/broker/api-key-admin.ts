// The node's answers to `vmq-admin api-key ...`. A key is checked against the
// policy (min_apikey_length, max_apikey_expiry_days) on the node asked, then
// stored there and on every running member, as VerneMQ keeps keys cluster-wide.
// Nothing here logs a key.
import { askPeers } from '../cluster/fanout.js'
import { InvalidRequest, NotFound } from '../rpc/errors.js'
import type { AdminHandlers } from '../rpc/generated/vmq/Admin.js'
import type { ApiKeyReply } from '../rpc/generated/vmq/ApiKeyReply.js'
import type { ApiKeyRequest, ApiKeyRequest__Output } from '../rpc/generated/vmq/ApiKeyRequest.js'
import { unary } from '../rpc/server.js'
import { toTable } from '../rpc/table.js'
import { ApiKeyError, DEFAULT_SCOPE, checkScope, formatUtc, generateKey, parseExpiry, type ApiKey, type ApiKeyPolicy } from './api-keys.js'
import type { BrokerNode } from './node.js'

type Handlers = Pick<AdminHandlers, 'ApiKeyCreate' | 'ApiKeyAdd' | 'ApiKeyDelete' | 'ApiKeyShow'>

export function apiKeyAdmin (node: BrokerNode): Handlers {
  return {
    ApiKeyCreate: unary(async request => {
      const entry = checked(() => ({ ...entryOf(request), key: generateKey(policy(node).minLength) }))
      checked(() => { node.apiKeys.add(entry, policy(node)) })
      node.log.info({ scope: entry.scope, expires: expiresText(entry) }, 'API key created with vmq-admin')
      return { text: entry.key, warnings: await passOn(node, 'ApiKeyAdd', entry) }
    }),

    ApiKeyAdd: unary(async request => {
      const entry = checked(() => entryOf(request))
      if (request.localOnly) {
        node.apiKeys.store(entry)
        return { text: 'Done', warnings: [] }
      }
      checked(() => { node.apiKeys.add(entry, policy(node)) })
      node.log.info({ scope: entry.scope, expires: expiresText(entry) }, 'API key added with vmq-admin')
      return { text: 'Done', warnings: await passOn(node, 'ApiKeyAdd', entry) }
    }),

    ApiKeyDelete: unary(async request => {
      const scope = checked(() => checkScope(request.scope === '' ? DEFAULT_SCOPE : request.scope))
      const here = node.apiKeys.delete(request.key, scope)
      if (request.localOnly) {
        if (!here) throw new NotFound('API key not found')
        return { text: 'Done', warnings: [] }
      }
      const peers = await askPeers<ApiKeyRequest, ApiKeyReply>(node.cluster, cookie(node), 'ApiKeyDelete', { key: request.key, scope, localOnly: true })
      const warnings = notReached(peers.warnings)
      if (!here && peers.answers.length === 0) throw new NotFound(`API key not found in scope ${scope}`)
      node.log.info({ scope }, 'API key deleted with vmq-admin')
      return { text: 'Done', warnings }
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
    })
  }
}

function entryOf (request: ApiKeyRequest__Output): ApiKey {
  const scope = checkScope(request.scope === '' ? DEFAULT_SCOPE : request.scope)
  return { key: request.key, scope, expires: request.expires === '' ? undefined : parseExpiry(request.expires) }
}

function expiresText (entry: ApiKey): string {
  return entry.expires === undefined ? 'never' : formatUtc(entry.expires)
}

function policy (node: BrokerNode): ApiKeyPolicy {
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
async function passOn (node: BrokerNode, method: 'ApiKeyAdd', entry: ApiKey): Promise<string[]> {
  const expires = entry.expires === undefined ? '' : new Date(entry.expires).toISOString().slice(0, 19) + 'Z'
  const peers = await askPeers<ApiKeyRequest, ApiKeyReply>(node.cluster, cookie(node), method, { key: entry.key, scope: entry.scope, expires, localOnly: true })
  return notReached(peers.warnings)
}

function notReached (warnings: string[]): string[] {
  return warnings.map(w => `${w}: the change did not reach it; repeat it there when it is back`)
}

function cookie (node: BrokerNode): string {
  return node.settings.string('distributed_cookie')
}
