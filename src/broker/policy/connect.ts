// CONNECT policy, as VerneMQ decides: protocol version per listener, client id
// size and form, anonymous access, the auth chain, a store that takes writes
// for a persistent session, the netsplit rule, then the takeover of the same
// client id on another member.
import type { AedesOptions, AuthenticateError, Client } from 'aedes'
import type { ClientOverrides, RefuseCode } from '../auth/types.js'
import { getMeta } from '../client-meta.js'
import { capWillDelay } from '../will-publish.js'
import { sentConnectProperties } from '../enhanced-auth.js'
import { refuseVersion } from '../connack.js'
import { adopt } from '../sessions.js'
import { isExtraSession, SESSION_SEPARATOR } from '../delivery/groups.js'
import { connectAs, connectedWithId, dropWill, onParsedPacket } from '../delivery/adapter.js'
import { unsubscribePolicy } from './unsubscribe.js'
import { clientInfo, inNetsplit, type HookContext } from './context.js'

export interface Refusal { code: RefuseCode | 1, reason: string }

export interface IdentityFacts {
  allowedVersions: readonly string[]
  protocolVersion: number
  clientIdLength: number
  maxClientIdSize: number
  /** the id holds what marks the node's internal ids */
  clientIdInvalid: boolean
}

/** The refusal of a CONNECT for its protocol version or client id, before any authentication. */
export function identityRefusal (f: IdentityFacts): Refusal | undefined {
  if (!f.allowedVersions.includes(String(f.protocolVersion))) return { code: 1, reason: 'unsupported_protocol_version' }
  if (f.clientIdLength > f.maxClientIdSize) return { code: 2, reason: 'client_identifier_not_valid' }
  // MQTT 3.1 has no broker-assigned ids; U+0000 is not allowed in MQTT strings (and marks our internal ids)
  if (f.clientIdInvalid || (f.protocolVersion === 3 && f.clientIdLength === 0)) return { code: 2, reason: 'client_identifier_not_valid' }
  return undefined
}

type ConnectHooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate'>>

export function connectPolicy (ctx: HookContext): ConnectHooks {
  const unsubscribe = unsubscribePolicy(ctx)
  return {
    preConnect (client, packet, callback) {
      const meta = getMeta(client)
      if (meta !== undefined) {
        meta.connectArrived?.()
        meta.connectArrived = undefined
        meta.sentClientIdLength = packet.clientId.length
        meta.clientIdInvalid = packet.clientId.includes(SESSION_SEPARATOR)
        meta.protocolVersion = packet.protocolVersion ?? 4
        meta.bridge = (packet as { bridgeMode?: boolean }).bridgeMode === true
        meta.username = meta.preauthUsername ?? packet.username
        meta.connectProperties = sentConnectProperties(client) ?? packet.properties as Record<string, unknown> | undefined
        // the id and clean session a plugin registered the client with (aedes takes the packet's)
        if (meta.early !== undefined) connectAs(packet, meta.early)
        meta.clean = packet.clean !== false
      }
      capWillDelay(packet.will, ctx.settings.get('max_last_will_delay') as number | null)
      if (meta?.clientIdInvalid !== true) ctx.queues.connecting(client, packet)
      onParsedPacket(client, unsubscribe)
      callback(null, true)
    },

    authenticate (client, _username, password, done) {
      checkConnect(ctx, client, password).then(
        refusal => {
          if (refusal === undefined) done(null, true)
          else done(refuse(refusal.code, refusal.reason), false)
        },
        (err: Error) => {
          ctx.log.error({ client: client.id, err: err.message }, 'authentication failed with an internal error')
          done(refuse(3, 'server_unavailable'), false)
        })
    }
  }
}

async function checkConnect (ctx: HookContext, client: Client, password: Buffer | undefined): Promise<Refusal | undefined> {
  const meta = getMeta(client)
  if (meta === undefined) return { code: 3, reason: 'unknown listener' }
  const identity = identityRefusal({
    allowedVersions: String(meta.listener.config.options.get('allowed_protocol_versions')).split(','),
    protocolVersion: meta.protocolVersion,
    clientIdLength: meta.sentClientIdLength,
    maxClientIdSize: ctx.settings.number('max_client_id_size'),
    clientIdInvalid: meta.clientIdInvalid === true
  })
  if (identity !== undefined) {
    if (identity.code === 1) refuseVersion(client)
    return identity
  }
  // use_identity_as_username: the certificate CN is the username and no auth plugin is asked
  const anonymous = ctx.settings.flag('allow_anonymous') || meta.listener.config.options.get('allow_anonymous_override') === true
  let overrides: ClientOverrides | undefined
  if (!anonymous && meta.preauthUsername === undefined) {
    const verdict = meta.early?.verdict ?? await ctx.chain.register(clientInfo(client), password)
    if (verdict.kind === 'refuse') return { code: verdict.code, reason: verdict.reason }
    if (verdict.kind !== 'ok') return { code: 5, reason: 'not_authorized' }
    overrides = verdict.overrides
  }
  const storeFailure = meta.clean ? undefined : ctx.store.writeFailure()
  if (storeFailure !== undefined) {
    ctx.log.warn({ client: client.id }, `persistent session refused: the store takes no writes since one failed (${storeFailure})`)
    return { code: 3, reason: 'server_unavailable' }
  }
  if (inNetsplit(ctx) && !(overrides?.allowRegister ?? ctx.settings.flag('allow_register_during_netsplit'))) {
    ctx.log.warn({ client: client.id }, "can't register client due to not_ready: a cluster member is unreachable")
    return { code: 3, reason: 'not_ready' }
  }
  await takeOverElsewhere(ctx, client.id, meta.mountpoint, meta.clean)
  if (ctx.settings.flag('suppress_lwt_on_session_takeover')) {
    const taken = connectedWithId(client)
    if (taken !== undefined) dropWill(taken)
  }
  applyOverrides(ctx, client, overrides)
  return undefined
}

/** The client's own settings from the auth plugin that accepted it; a CONNECT without them has the node's. */
function applyOverrides (ctx: HookContext, client: Client, o: ClientOverrides | undefined): void {
  const meta = getMeta(client)
  if (meta === undefined) return
  if (o?.username !== undefined) meta.username = o.username
  if (meta.early === undefined) warnNotApplied(ctx, client, o)
  meta.maxMessageSize = o?.maxMessageSize
  meta.maxMessageRate = o?.maxMessageRate
  meta.allowPublish = o?.allowPublish
  meta.allowSubscribe = o?.allowSubscribe
  meta.allowUnsubscribe = o?.allowUnsubscribe
  ctx.store.setClientMaxOffline(client.id, o?.maxOfflineMessages)
  ctx.store.setClientLifo(client.id, o?.queueType === undefined ? undefined : o.queueType === 'lifo')
  const listenerLifetime = meta.listener.config.options.get('max_connection_lifetime')
  if (typeof listenerLifetime === 'number' && listenerLifetime > 0) closeAfter(ctx, client, listenerLifetime)
  if (o === undefined) return
  if (o.maxConnectionLifetime !== undefined && o.maxConnectionLifetime > 0) closeAfter(ctx, client, o.maxConnectionLifetime)
  ctx.queues.configure(client, {
    maxInflight: o.maxInflightMessages,
    maxOnline: o.maxOnlineMessages,
    retryMs: o.retryIntervalMs,
    upgradeQos: o.upgradeQos,
    lifo: o.queueType === undefined ? undefined : o.queueType === 'lifo'
  })
}

/** client_id, mountpoint and clean_session apply to a CONNECT registered before aedes read it (see early-register.ts). */
function warnNotApplied (ctx: HookContext, client: Client, o: ClientOverrides | undefined): void {
  const names = [...(o?.subscriberId !== undefined ? ['client_id and mountpoint'] : []), ...(o?.cleanSession !== undefined ? ['clean_session'] : [])]
  if (names.length === 0) return
  ctx.log.warn({ client: client.id }, `modifiers ${names.join(', ')} not applied: the client authenticated with an Authentication Method (enhanced authentication)`)
}

/** The same client id on another node is disconnected; its session moves here unless this one is clean. */
async function takeOverElsewhere (ctx: HookContext, clientId: string, mountpoint: string, clean: boolean): Promise<void> {
  if (!ctx.cluster.hasPeers() || isExtraSession(clientId)) return
  const handovers = await ctx.cluster.takeover(mountpoint, clientId, clean)
  if (clean || handovers.length === 0) return
  const { broker, persistence } = await ctx.instance(mountpoint)
  await adopt(broker, persistence, clientId, handovers)
  ctx.log.debug({ clientId, mountpoint, messages: handovers.reduce((n, h) => n + h.messages.length, 0) }, 'session taken over from another node')
}

/** MQTT 5 DISCONNECT reason: administrative action (VerneMQ's, at max_connection_lifetime) */
const ADMINISTRATIVE_ACTION = 0x98

/** The longest delay setTimeout takes (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** max_connection_lifetime of the listener or given by a plugin: the connection is closed that many seconds after its CONNECT. */
function closeAfter (ctx: HookContext, client: Client, seconds: number): void {
  const due = Date.now() + seconds * 1000
  let timer: NodeJS.Timeout
  const arm = (): void => {
    const left = due - Date.now()
    timer = setTimeout(left > MAX_TIMER_MS ? arm : () => {
      if (client.closed) return
      ctx.log.info({ client: client.id, seconds }, 'connection closed: max_connection_lifetime reached')
      if (client.version === 5) client.disconnect({ reasonCode: ADMINISTRATIVE_ACTION })
      else client.close()
    }, Math.min(Math.max(left, 0), MAX_TIMER_MS))
  }
  arm()
  client.conn.once('close', () => { clearTimeout(timer) })
}

function refuse (code: number, reason: string): AuthenticateError {
  const err = new Error(reason) as AuthenticateError
  err.returnCode = code as AuthenticateError['returnCode']
  return err
}
