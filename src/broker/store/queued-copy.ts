import type { Stored } from './codec.js'
import type { PacketLike } from './store-types.js'

/** The copy aedes' memory store queues (aedes-packet's shape, without a broker). */
export function queuedCopy (packet: PacketLike): Stored {
  const copy: Stored = {}
  for (const field of ['clientId', 'nl', 'properties', 'messageExpiry']) {
    if (Object.hasOwn(packet, field)) copy[field] = packet[field]
  }
  const cmd = packet.cmd || 'publish'
  const qos = packet.qos || 0
  copy.cmd = cmd
  copy.brokerId = packet.brokerId
  copy.brokerCounter = packet.brokerCounter || 0
  copy.topic = packet.topic
  copy.payload = packet.payload || Buffer.alloc(0)
  copy.qos = qos
  copy.retain = packet.retain || false
  copy.dup = packet.dup || false
  if (qos > 0 || cmd !== 'publish') copy.messageId = undefined
  return copy
}
