// Pre-encoded MQTT 3.1.1 packets for the load generator: built once with mqtt-packet, then
// copied and patched (packet id, send time) on the hot path instead of re-encoded.
import mqtt from 'mqtt-packet'

export interface Credentials { username: string, password: string }

export function connectPacket (clientId: string, clean: boolean, keepalive: number, credentials?: Credentials): Buffer {
  return mqtt.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId,
    clean,
    keepalive,
    ...(credentials === undefined ? {} : { username: credentials.username, password: Buffer.from(credentials.password) })
  })
}

export function subscribePacket (topic: string, qos: 0 | 1, messageId: number): Buffer {
  return mqtt.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] })
}

export function disconnectPacket (): Buffer {
  return mqtt.generate({ cmd: 'disconnect' })
}

/** A PUBLISH packet to copy; `idOffset` is -1 at QoS 0; the send time goes at `payloadOffset`. */
export interface PublishTemplate {
  bytes: Buffer
  idOffset: number
  payloadOffset: number
  payloadSize: number
}

export function publishTemplate (topic: string, qos: 0 | 1, payloadSize: number): PublishTemplate {
  const payload = Buffer.alloc(payloadSize, 0x61)
  const bytes = mqtt.generate({ cmd: 'publish', topic, payload, qos, retain: false, dup: false, messageId: qos === 0 ? undefined : 1 })
  const payloadOffset = bytes.length - payloadSize
  const idOffset = qos === 0 ? -1 : payloadOffset - 2
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
