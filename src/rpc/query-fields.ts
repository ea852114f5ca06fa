// The fields of the Admin queries (SessionShow, RetainShow): part of the
// contract between the CLI (flags, help) and the node (rows).

/** `session show` fields, as VerneMQ names them, with what each holds. */
export const SESSION_FIELDS: Readonly<Record<string, string>> = {
  client_id: 'client identifier',
  clean_session: 'clean session (3.1.1) / clean start (5); false for an offline session',
  is_offline: 'true for a persistent session whose client is not connected',
  is_online: 'true while the client is connected',
  mountpoint: 'mountpoint of the listener the client came through',
  node: 'cluster member holding the session',
  num_sessions: 'connected sessions (0 or 1)',
  offline_messages: 'messages queued while the client is offline',
  online_messages: 'messages sent to the connected client and not yet acknowledged',
  peer_host: 'client IP address (online only)',
  peer_port: 'client TCP port (online only)',
  protocol: 'MQTT protocol level: 3, 4 (3.1.1) or 5 (online only)',
  qos: 'QoS of a subscription (one row per subscription)',
  queue_size: 'messages stored for the session',
  session_started_at: 'when the client connected, ms since the epoch (online only)',
  topic: 'filter of a subscription (one row per subscription)',
  user: 'username; undefined without one',
  waiting_acks: 'QoS 1/2 messages sent and not yet acknowledged (online only)'
}

export const SESSION_DEFAULT_COLUMNS = ['client_id', 'is_online', 'mountpoint', 'peer_host', 'peer_port', 'user']

export const RETAIN_FIELDS: Readonly<Record<string, string>> = {
  mountpoint: 'mountpoint of the message (default: only "")',
  payload: 'payload as text; --payload=<value> matches it exactly',
  topic: 'topic; --topic=<filter> matches with MQTT wildcards'
}

export const RETAIN_DEFAULT_COLUMNS = ['payload', 'topic']
