// A message as the delivery layer sends it: the fields of aedes' PUBLISH
// packet it reads and sets.

/** The fields of an aedes PUBLISH packet the queue reads or sets. */
export interface OutPacket {
  cmd?: string
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  dup?: boolean
  messageId?: number
  brokerId?: string | null
  brokerCounter?: number
  properties?: Record<string, unknown>
  /** MQTT 5: when the message expires, ms since the epoch (set by aedes' publish) */
  messageExpiry?: number
}
