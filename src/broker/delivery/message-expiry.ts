// MQTT 5 Message Expiry Interval on the way out. aedes stamps a published
// message with its absolute expiry (`messageExpiry`, ms since the epoch); a
// message that waited (offline in the store, or in the online queue) is not
// delivered once that has passed, and otherwise goes out with the interval that
// remains, not the one it was published with (MQTT-3.3.2-5, MQTT-3.3.2-6).
import type { OutPacket } from './adapter.js'

/** True when the message's expiry interval has passed. */
export function hasExpired (packet: OutPacket, now: number): boolean {
  return packet.messageExpiry !== undefined && packet.messageExpiry <= now
}

/**
 * Sets the interval that remains on the packet. The properties object is
 * replaced, not changed: aedes shares it between the copies of a message.
 */
export function setRemainingExpiry (packet: OutPacket, now: number): void {
  if (packet.messageExpiry === undefined) return
  const remaining = Math.max(1, Math.ceil((packet.messageExpiry - now) / 1000))
  if (packet.properties?.messageExpiryInterval === remaining) return
  packet.properties = { ...packet.properties, messageExpiryInterval: remaining }
}
