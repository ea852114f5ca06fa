// Pre-encoded MQTT 3.1.1 and MQTT 5 packets for the load generator: built once with mqtt-packet,
// then copied and patched (packet id, send time) on the hot path instead of re-encoded.
import mqtt from 'mqtt-packet'

export interface Credentials { username: string, password: string }

/** MQTT protocol level: 4 = 3.1.1, 5 = MQTT 5. */
export type ProtocolVersion = 4 | 5

/**
 * A v5 session without a Session Expiry Interval ends when its connection does (MQTT 5 3.1.2.11.2);
 * clean=false sessions ask for "never expires", as a 3.1.1 persistent session behaves.
 */
export const SESSION_NEVER_EXPIRES = 0xFFFFFFFF

export function connectPacket (clientId: string, clean: boolean, keepalive: number, credentials?: Credentials, protocol: ProtocolVersion = 4): Buffer {
  return mqtt.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: protocol,
    clientId,
    clean,
    keepalive,
    ...(protocol === 5 && !clean ? { properties: { sessionExpiryInterval: SESSION_NEVER_EXPIRES } } : {}),
    ...(credentials === undefined ? {} : { username: credentials.username, password: Buffer.from(credentials.password) })
  }, { protocolVersion: protocol })
}

export function subscribePacket (topic: string, qos: 0 | 1, messageId: number, protocol: ProtocolVersion = 4): Buffer {
  return mqtt.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }, { protocolVersion: protocol })
}

export function disconnectPacket (protocol: ProtocolVersion = 4): Buffer {
  return mqtt.generate({ cmd: 'disconnect' }, { protocolVersion: protocol })
}

/** A PUBLISH packet to copy; `idOffset` is -1 at QoS 0; the send time goes at `payloadOffset`. */
export interface PublishTemplate {
  bytes: Buffer
  idOffset: number
  payloadOffset: number
  payloadSize: number
}

export function publishTemplate (topic: string, qos: 0 | 1, payloadSize: number, protocol: ProtocolVersion = 4): PublishTemplate {
  const payload = Buffer.alloc(payloadSize, 0x61)
  // v5: an empty property block (one length byte, 0) sits between the packet id and the payload.
  const properties = protocol === 5 ? { properties: {} } : {}
  const bytes = mqtt.generate({ cmd: 'publish', topic, payload, qos, retain: false, dup: false, messageId: qos === 0 ? undefined : 1, ...properties }, { protocolVersion: protocol })
  const payloadOffset = bytes.length - payloadSize
  const idOffset = qos === 0 ? -1 : payloadOffset - 2 - (protocol === 5 ? 1 : 0)
  return { bytes, idOffset, payloadOffset, payloadSize }
}

/** `count` copies of the template back to back, ready for one socket write. */
export function publishRun (template: PublishTemplate, count: number): Buffer {
  const size = template.bytes.length
  const run = Buffer.allocUnsafe(size * count)
  for (let i = 0; i < count; i++) template.bytes.copy(run, i * size)
  return run
}

/** Monotonic clock in microseconds, the same in every process of this machine. */
export function monotonicMicros (): number {
  const [s, ns] = process.hrtime()
  return s * 1e6 + ns / 1e3
}

export const TIMESTAMP_BYTES = 8
