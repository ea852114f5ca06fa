// MQTT 5 flow control towards the broker: a client may have at most Receive
// Maximum (receive_max_broker, as advertised in its CONNACK) QoS 1 and 2
// PUBLISHes the broker has not answered with PUBACK or PUBCOMP. One more is a
// protocol violation: DISCONNECT 0x93 and the connection closes [MQTT-3.3.4-9].
import type { AedesOptions, Client } from 'aedes'
import { isSkipped, onParsedPacket, skipPublish } from './delivery/adapter.js'
import { disconnectWithReason } from './delivery/adapter-refusal.js'

/** MQTT 5 DISCONNECT reason: Receive Maximum exceeded */
const RECEIVE_MAXIMUM_EXCEEDED = 0x93

interface Quota {
  max: number
  /** packet ids of PUBLISHes not yet answered with PUBACK/PUBCOMP */
  open: Set<number>
  /** packet ids of the PUBLISHes over the quota (dropped unanswered: the connection is closing) */
  over: Set<number>
}

interface Publish { qos: number, messageId?: number }

const quotas = new WeakMap<Client, Quota>()

/** The Receive Maximum a v5 connection was given at CONNECT (undefined before, and for 3.1/3.1.1). */
export function receiveMaximumOf (client: Client): number | undefined {
  return quotas.get(client)?.max
}

/**
 * What counts a connection's unanswered QoS 1/2 PUBLISHes, given to each
 * connection as it is accepted (one for every connection); `max` is read when
 * its CONNECT arrives.
 */
export function receiveMaximumWatch (max: () => number): (client: Client) => void {
  const listener = (parsed: { cmd: string }, client: Client): void => {
    const packet = parsed as { cmd: string, protocolVersion?: number, qos: number, messageId?: number }
    if (packet.cmd === 'connect') {
      if (packet.protocolVersion === 5) quotas.set(client, { max: max(), open: new Set(), over: new Set() })
      return
    }
    const quota = quotas.get(client)
    if (quota === undefined) return
    if (packet.cmd === 'pubrel') quota.open.delete(packet.messageId as number)
    else if (packet.cmd === 'publish') counted(client, quota, packet)
  }
  return client => { onParsedPacket(client, listener) }
}

function counted (client: Client, quota: Quota, packet: Publish): void {
  if (packet.qos === 0 || packet.messageId === undefined) return
  if (quota.over.size > 0 || (!quota.open.has(packet.messageId) && quota.open.size >= quota.max)) {
    if (quota.over.size === 0) disconnectWithReason(client, RECEIVE_MAXIMUM_EXCEEDED)
    quota.over.add(packet.messageId)
    return
  }
  quota.open.add(packet.messageId)
}

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>

/**
 * Wraps authorizePublish: a PUBLISH over the quota is dropped unanswered (the
 * connection is closing), and a PUBLISH leaves the count when its answer is
 * the last one: PUBACK for QoS 1, a refusal or no answer at all for QoS 2
 * (a PUBREC with a failure code ends the exchange; PUBREL ends the others).
 */
export function answeredPublish (inner: AuthorizePublish): AuthorizePublish {
  return (client, packet, callback) => {
    const quota = client === null ? undefined : quotas.get(client)
    if (quota === undefined) {
      inner(client, packet, callback)
      return
    }
    if (quota.over.has(packet.messageId as number)) {
      skipPublish(packet)
      callback(null)
      return
    }
    inner(client, packet, err => {
      if (packet.qos === 1 || err != null || isSkipped(packet)) quota.open.delete(packet.messageId as number)
      callback(err)
    })
  }
}
