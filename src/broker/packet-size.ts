// How large a packet the node reads before it refuses it, from the size its
// fixed header announces (before the body is buffered).

/**
 * max_message_size limits a PUBLISH payload; the announced size also counts
 * the topic (up to 64 KiB), packet id and properties. A frame may exceed
 * max_message_size by this much before it is refused unread; within it, the
 * payload check at authorizePublish still applies the exact limit.
 */
export const PUBLISH_OVERHEAD_BYTES = 128 * 1024

/**
 * The largest CONNECT read, whatever max_message_size: client id, will topic,
 * will payload, user name and password of 64 KiB each (the most their 2-byte
 * lengths allow) and room for properties.
 */
export const CONNECT_MAX_BYTES = 512 * 1024

/** The maximum packet size for aedes from max_message_size (0 = no limit). */
export function maximumPacketSize (maxMessageSize: number): number {
  return maxMessageSize > 0 ? maxMessageSize + PUBLISH_OVERHEAD_BYTES : 0
}
