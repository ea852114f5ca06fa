// auth_on_register before the connection meets aedes. VerneMQ registers a
// client under the subscriber id (client id and mountpoint) its auth plugin
// answered with; in vmq-ts each mountpoint is its own aedes instance, chosen
// when the connection is handed over. So when a plugin may move clients, the
// node reads the CONNECT first, asks the auth chain, and hands the connection
// to the instance of the mountpoint the answer names; the verdict travels with
// the connection so the CONNECT policy does not ask again.
import type { IConnectPacket } from 'mqtt-packet'
import type { Settings } from '../config/settings.js'
import type { AuthChain } from './auth/chain.js'
import type { ClientInfo, EarlyRegistration, RegisterVerdict } from './auth/types.js'
import type { Logger } from './log.js'
import { SESSION_SEPARATOR } from './delivery/groups.js'
import { randomClientId } from './connack.js'
import { listenerMountpoint, type ConnectionInfo, type MqttListener } from './listeners/types.js'
import { identityRefusal } from './policy/connect.js'

/** Whether the CONNECT of a new connection is to be read first: a plugin may move clients that are authenticated here. */
export function registersEarly (chain: AuthChain, settings: Settings, listener: MqttListener, info: ConnectionInfo): boolean {
  if (info.preauthUsername !== undefined || !chain.movesClients()) return false
  return !settings.flag('allow_anonymous') && listener.config.options.get('allow_anonymous_override') !== true
}

/**
 * The chain's verdict on a CONNECT read off a new connection; undefined when
 * the usual CONNECT handling decides: it refuses the CONNECT before any
 * authentication, or MQTT 5 enhanced authentication comes first. An empty
 * client id is given a random one first (MQTT 5, 3.1.1 clean sessions), as
 * VerneMQ does before auth_on_register.
 */
export async function registerEarly (chain: AuthChain, settings: Settings, log: Logger, connect: IConnectPacket, listener: MqttListener, info: ConnectionInfo): Promise<EarlyRegistration | undefined> {
  const protocolVersion = connect.protocolVersion ?? 4
  if (connect.properties?.authenticationMethod !== undefined) return undefined
  const assign = connect.clientId === '' && (protocolVersion === 5 || (protocolVersion === 4 && connect.clean !== false))
  const refused = identityRefusal({
    allowedVersions: String(listener.config.options.get('allowed_protocol_versions')).split(','),
    protocolVersion,
    clientIdLength: connect.clientId.length,
    maxClientIdSize: settings.number('max_client_id_size'),
    clientIdInvalid: connect.clientId.includes(SESSION_SEPARATOR)
  })
  // (3.1.1 with an empty id and a persistent session: aedes refuses it)
  if (refused !== undefined || (connect.clientId === '' && !assign)) return undefined
  const assignedClientId = assign ? randomClientId() : undefined
  const connection = {}
  const mountpoint = listenerMountpoint(listener.config)
  const client: ClientInfo = {
    clientId: assignedClientId ?? connect.clientId,
    username: connect.username,
    mountpoint,
    connection,
    protocolVersion,
    peerHost: info.peerHost,
    peerPort: info.peerPort,
    clean: connect.clean !== false,
    connectProperties: connect.properties as Record<string, unknown> | undefined
  }
  let verdict: RegisterVerdict
  try {
    verdict = await chain.register(client, connect.password)
  } catch (err) {
    log.error({ client: connect.clientId, err: (err as Error).message }, 'authentication failed with an internal error')
    verdict = { kind: 'refuse', code: 3, reason: 'server_unavailable' }
  }
  const overrides = verdict.kind === 'ok' ? verdict.overrides : undefined
  const moved = overrides?.subscriberId
  return { verdict, connection, mountpoint: moved?.mountpoint ?? mountpoint, clientId: moved?.clientId ?? assignedClientId, clean: overrides?.cleanSession, assignedClientId }
}
