// MQTT 5 enhanced authentication (§4.12) through the auth chain's on_auth_m5
// (webhooks), as VerneMQ runs it. A CONNECT with an Authentication Method is
// held back from aedes (which has no AUTH flow and would refuse it with 0x8C)
// while the plugin and the client exchange AUTH packets: reason 0x18 goes on;
// success hands the CONNECT to aedes without its authentication properties,
// the usual CONNECT checks (auth_on_register_m5, ...) follow, and an accepting
// CONNACK carries the method and the plugin's last data. A refusal closes the
// connection without a CONNACK, as VerneMQ does. Once connected, the client
// may authenticate again (AUTH 0x19): success is answered with AUTH 0x00, a
// refusal with DISCONNECT 0x87.
import type { Client } from 'aedes'
import type { AuthChain } from './auth/chain.js'
import type { AuthStep, ClientInfo } from './auth/types.js'
import { getMeta } from './client-meta.js'
import type { AuthExchange } from './delivery/adapter-guard.js'
import { writeAuth } from './delivery/adapter.js'
import type { Logger } from './log.js'
import type { ClientPacket } from '../mqtt/packet-rules.js'

const SUCCESS = 0
const CONTINUE_AUTHENTICATION = 0x18
const NOT_AUTHORIZED = 0x87
const BAD_AUTHENTICATION_METHOD = 0x8c

interface Exchange {
  method: string
  who: ClientInfo
  /** hands the held CONNECT to aedes; undefined once it was */
  release: (() => void) | undefined
  connect: ClientPacket
  /** a step is being asked: the client must wait for its answer before it sends AUTH again */
  asking: boolean
}

export interface AuthResult { method: string, data?: Buffer }

const exchanges = new WeakMap<Client, Exchange>()
const results = new WeakMap<Client, AuthResult>()
const sentProperties = new WeakMap<Client, Record<string, unknown>>()

/** What the CONNACK of a connection that authenticated this way says (method and data). */
export function authResult (client: Client): AuthResult | undefined {
  return results.get(client)
}

/** The CONNECT's properties as the client sent them (aedes gets them without the authentication ones). */
export function sentConnectProperties (client: Client): Record<string, unknown> | undefined {
  return sentProperties.get(client)
}

export function enhancedAuthExchange (chain: AuthChain, log: Logger): AuthExchange {
  const ask = (client: Client, ex: Exchange, properties: Record<string, unknown>): void => {
    ex.asking = true
    chain.enhancedAuth(ex.who, properties).then(
      step => { answer(client, ex, step) },
      (err: Error) => { answer(client, ex, { kind: 'refuse', reason: err.message }) })
  }

  const refuse = (client: Client, ex: Exchange, reason: string, disconnectCode = NOT_AUTHORIZED): void => {
    log.warn({ client: ex.who.clientId, reason }, "can't continue enhanced authentication")
    if (ex.release !== undefined) client.close()
    else client.disconnect({ reasonCode: disconnectCode })
  }

  const answer = (client: Client, ex: Exchange, step: AuthStep): void => {
    ex.asking = false
    if (client.closed) return
    if (step.kind === 'refuse') {
      refuse(client, ex, step.reason)
      return
    }
    if (step.method !== ex.method) {
      refuse(client, ex, `the plugin answered for method ${step.method}, the client uses ${ex.method}`)
      return
    }
    const properties = { authenticationMethod: ex.method, ...(step.data !== undefined ? { authenticationData: step.data } : {}) }
    if (step.kind === 'continue') {
      writeAuth(client, { cmd: 'auth', reasonCode: CONTINUE_AUTHENTICATION, properties })
      return
    }
    if (ex.release === undefined) {
      writeAuth(client, { cmd: 'auth', reasonCode: SUCCESS, properties })
      return
    }
    results.set(client, { method: ex.method, data: step.data })
    const release = ex.release
    ex.release = undefined
    const held = ex.connect.properties ?? {}
    delete held.authenticationMethod
    delete held.authenticationData
    release()
  }

  return {
    connect (client, packet, release) {
      const method = packet.properties?.authenticationMethod
      if (packet.protocolVersion !== 5 || typeof method !== 'string' || !chain.hasEnhancedAuth()) return false
      const properties = packet.properties ?? {}
      sentProperties.set(client, { ...properties })
      const connect = packet as ClientPacket & { clientId?: string }
      const who: ClientInfo = { clientId: connect.clientId ?? '', username: packet.username, mountpoint: getMeta(client)?.mountpoint ?? '', connection: client, protocolVersion: 5 }
      const ex: Exchange = { method, who, release, connect: packet, asking: false }
      exchanges.set(client, ex)
      ask(client, ex, properties)
      return true
    },

    takesAuth (client) {
      return exchanges.has(client)
    },

    auth (client, packet) {
      const ex = exchanges.get(client)
      if (ex === undefined) return
      const properties = packet.properties ?? {}
      if (properties.authenticationMethod !== ex.method) {
        refuse(client, ex, `an AUTH for method ${String(properties.authenticationMethod)}, the client authenticated with ${ex.method}`, BAD_AUTHENTICATION_METHOD)
        return
      }
      if (ex.asking) {
        refuse(client, ex, 'an AUTH before the previous one was answered')
        return
      }
      // after the CONNACK, later hooks see the user aedes knows
      if (ex.release === undefined) ex.who = { ...ex.who, username: getMeta(client)?.username }
      ask(client, ex, properties)
    }
  }
}
