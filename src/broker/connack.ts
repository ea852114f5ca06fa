// What a connection is granted at CONNECT and what its CONNACK says beyond
// aedes' own choices: broker-assigned client ids, the keep alive cap
// (max_keepalive), whether a session was resumed (Session Present), and the
// MQTT 5 properties that advertise Receive Maximum and shared subscriptions.
import { randomBytes } from 'node:crypto'
import type { Client, ConnectPacket } from 'aedes'
import type { IConnackPacket } from 'mqtt-packet'
import type { Settings } from '../config/settings.js'
import { onConnack, rewriteWrites } from './delivery/adapter.js'
import { OutgoingTopicAliases } from './delivery/topic-aliases.js'
import { receiveMaximumOf } from './inbound-quota.js'
import { authResult } from './enhanced-auth.js'
import { getMeta } from './client-meta.js'

/** the protocol's Receive Maximum when none is sent (MQTT 5 §3.2.2.3.3) */
const RECEIVE_MAXIMUM_DEFAULT = 65535

interface Granted {
  version: number
  cleanStart: boolean
  /** a persistent session of this client id existed when the CONNECT arrived */
  sessionStored: boolean
  assignedClientId?: string
  serverKeepAlive?: number
  /** MQTT 5: topic aliases the broker uses towards the client (topic_alias_max_client and the client's Topic Alias Maximum) */
  topicAliasesOut: number
}

const granted = new WeakMap<Client, Granted>()

export interface ConnectContext {
  settings: Settings
  store: { hasSession: (clientId: string) => boolean }
}

/** VerneMQ assigns `anon-` and a random string (vmq_mqtt5_fsm random_client_id). */
export function randomClientId (): string {
  return 'anon-' + randomBytes(15).toString('base64url')
}

/**
 * preConnect: gives an empty client id a random one (MQTT 5, and 3.1.1 clean
 * sessions; aedes refuses the others), caps the MQTT 5 keep alive, and notes
 * whether the session to resume exists. Changes the packet aedes goes on with.
 */
export function grant (ctx: ConnectContext, client: Client, packet: ConnectPacket): void {
  const version = packet.protocolVersion ?? 4
  const g: Granted = {
    version,
    cleanStart: packet.clean !== false,
    sessionStored: packet.clientId !== '' && ctx.store.hasSession(packet.clientId),
    topicAliasesOut: version === 5 ? Math.min(ctx.settings.number('topic_alias_max_client'), packet.properties?.topicAliasMaximum ?? 0) : 0
  }
  if (packet.clientId === '' && (version === 5 || (version === 4 && packet.clean !== false))) {
    packet.clientId = randomClientId()
    if (version === 5) g.assignedClientId = packet.clientId
  }
  // given before the auth plugins were asked (early-register.ts); the client is told that one, as by VerneMQ
  const early = getMeta(client)?.early?.assignedClientId
  if (early !== undefined && version === 5) g.assignedClientId = early
  const max = ctx.settings.number('max_keepalive')
  // MQTT 5 §3.2.2.3.14: the client must use the Server Keep Alive instead of its own.
  // 3.1.1 has no way to say so; such clients keep their value.
  if (version === 5 && max > 0 && (packet.keepalive === undefined || packet.keepalive === 0 || packet.keepalive > max)) {
    packet.keepalive = max
    g.serverKeepAlive = max
  }
  granted.set(client, g)
}

/** MQTT 5 CONNACK reason: Unsupported Protocol Version */
const UNSUPPORTED_PROTOCOL_VERSION = 0x84
const versionRefused = new WeakSet<Client>()

/**
 * The CONNACK of this connection refuses its protocol version: return code 1
 * (MQTT 5: 0x84 Unsupported Protocol Version), as VerneMQ sends. aedes turns
 * any refusal code of authenticate outside 2-5 into 5, so the CONNACK is
 * corrected on its way out.
 */
export function refuseVersion (client: Client): void {
  versionRefused.add(client)
}

/** Makes the connection's CONNACK say what was granted; call when the connection is accepted. */
export function amendConnack (client: Client, sent: (version: number, code: number) => void = () => {}): void {
  onConnack(client, () => { const g = granted.get(client); return g === undefined ? undefined : wireVersion(g.version) }, connack => {
    const g = granted.get(client)
    // needed for this CONNACK only: an idle connection keeps no grant
    granted.delete(client)
    if (g !== undefined && versionRefused.has(client)) {
      if (g.version === 5) connack.reasonCode = UNSUPPORTED_PROTOCOL_VERSION
      else connack.returnCode = 1
    }
    if (g !== undefined) sent(g.version, connack.returnCode ?? connack.reasonCode ?? 0)
    if (g === undefined || (connack.returnCode ?? connack.reasonCode ?? 0) !== 0) return
    // [MQTT-3.2.2-2]: Session Present is 1 exactly when a stored session is resumed,
    // subscriptions or not; aedes reports only restored subscriptions.
    connack.sessionPresent = !g.cleanStart && (connack.sessionPresent || g.sessionStored)
    if (g.version === 5) amendProperties(client, g, connack)
    if (g.topicAliasesOut > 0) {
      const aliases = new OutgoingTopicAliases(g.topicAliasesOut, client.maximumPacketSize)
      rewriteWrites(client, chunk => aliases.rewrite(chunk))
    }
  })
}

/** mqtt-packet writes 3.1 as 3, 5 as 5 and everything else as 3.1.1 */
function wireVersion (version: number): number {
  return version === 3 || version === 5 ? version : 4
}

function amendProperties (client: Client, g: Granted, connack: IConnackPacket): void {
  const properties = connack.properties ?? {}
  // aedes says shared subscriptions are unavailable; the node serves them (absent = available)
  delete properties.sharedSubscriptionAvailable
  const receiveMaximum = receiveMaximumOf(client)
  if (receiveMaximum !== undefined && receiveMaximum < RECEIVE_MAXIMUM_DEFAULT) properties.receiveMaximum = receiveMaximum
  if (g.assignedClientId !== undefined) properties.assignedClientIdentifier = g.assignedClientId
  if (g.serverKeepAlive !== undefined) properties.serverKeepAlive = g.serverKeepAlive
  const auth = authResult(client)
  if (auth !== undefined) {
    properties.authenticationMethod = auth.method
    if (auth.data !== undefined) properties.authenticationData = auth.data
  }
  if (Object.keys(properties).length > 0) connack.properties = properties
  else delete connack.properties
}
