// Counters of what the broker refused or dropped, for metrics: plain numbers
// the node increments on the spot (no allocation, no locking). Offline drops
// (max_offline_messages) are the store's: LevelPersistence.stats().offlineDropped.
export class BrokerCounters {
  /** messages dropped because an online session's queue was at max_online_messages */
  onlineDropped = 0
  /** unacknowledged QoS 1/2 messages (or PUBRELs) sent again after retry_interval */
  retried = 0
  /** MQTT 5 messages not delivered because their Message Expiry Interval passed while they waited */
  messagesExpired = 0
  /** MQTT 5 messages not sent to a client because the PUBLISH exceeds the Maximum Packet Size it set */
  tooLargeForClient = 0
  /** connections closed because more than outgoing_buffer_limit bytes waited to be written to them */
  slowConsumersClosed = 0
  /** offline persistent sessions deleted after persistent_client_expiration */
  sessionsExpired = 0
  /** PUBLISHes refused for exceeding max_message_size (the connection was closed) */
  oversizeRefused = 0
  /** connections closed because no CONNECT arrived within mqtt_connect_timeout */
  connectTimeouts = 0
  /** connections closed because nothing arrived for 1.5 times their keep alive */
  keepalivesExpired = 0
  /** connections closed for a packet that breaks the protocol (malformed, forbidden, a CONNECT too large) */
  protocolErrors = 0
  /** connections closed because handling one of their packets threw */
  internalErrors = 0
  /** PUBLISHes received from clients, by MQTT version (3 and 4 count as 4) */
  publishReceived4 = 0
  publishReceived5 = 0
  /** PUBLISHes sent to clients (resends are counted in `retried`) */
  publishSent = 0
  /** messages handed to a connected session, or stored for an offline persistent session */
  queueIn = 0
  /** messages published on this node delivered to a subscriber of this node */
  matchesLocal = 0
  /** MQTT connections accepted and closed on the MQTT listeners */
  socketOpen = 0
  socketClose = 0
  /** bytes read from and written to MQTT connections (MQTT bytes: inside TLS and WebSocket frames) */
  bytesReceived = 0
  bytesSent = 0
  /**
   * packets received from and sent to clients, by MQTT version (0: 3.1 and
   * 3.1.1, 1: 5) and packet type (1 CONNECT … 15 AUTH); MQTT 5 PUBACK, PUBREC,
   * PUBREL, PUBCOMP, DISCONNECT and AUTH are counted by reason code instead
   */
  readonly packetsReceived = [new Array<number>(16).fill(0), new Array<number>(16).fill(0)]
  readonly packetsSent = [new Array<number>(16).fill(0), new Array<number>(16).fill(0)]
  /** PUBLISH packets sent again (DUP set), by MQTT version as above; packetsSent counts the others */
  readonly publishResent = [0, 0]
  /** MQTT 5 packets with a reason code, by packet type * 256 + reason code */
  readonly reasonCodesReceived = new Map<number, number>()
  readonly reasonCodesSent = new Map<number, number>()
  /** CONNACKs sent, by MQTT version (3 counts as 4) and return/reason code */
  readonly connacks = { 4: new Map<number, number>(), 5: new Map<number, number>() }

  connackSent (version: number, code: number): void {
    const byCode = version === 5 ? this.connacks[5] : this.connacks[4]
    byCode.set(code, (byCode.get(code) ?? 0) + 1)
  }

  reasonReceived (type: number, code: number): void {
    const key = type * 256 + code
    this.reasonCodesReceived.set(key, (this.reasonCodesReceived.get(key) ?? 0) + 1)
  }

  reasonSent (type: number, code: number): void {
    const key = type * 256 + code
    this.reasonCodesSent.set(key, (this.reasonCodesSent.get(key) ?? 0) + 1)
  }
}
