// Every configuration key vmq-ts knows, in ONE table: type, default, whether
// `vmq-admin set` may change it at runtime, and a one-line doc. The parser,
// `set`, `show`, `describe`, the README's configuration table and the
// DOCKER_VERNEMQ_* mapping all read this file.
import type { Value, ValueType } from './values.js'

export interface KeyDef {
  key: string
  type: ValueType
  default: Value
  doc: string
  /** may be changed on a running node with `vmq-admin set` */
  settable?: boolean
  unit?: string
  /** other names accepted for the same setting */
  aliases?: readonly string[]
  /**
   * false: accepted for compatibility with vernemq.conf files but has no effect
   * yet (the README lists these).
   */
  applied?: boolean
}

const flag: ValueType = { kind: 'flag' }
const int = (min?: number, max?: number): ValueType => ({ kind: 'integer', min, max })
const str: ValueType = { kind: 'string' }
const path: ValueType = { kind: 'path' }
const oneOf = (...values: string[]): ValueType => ({ kind: 'enum', values })
const backendDoc = (name: string): string => `Must stay off: vmq-ts has no ${name} backend, and on refuses the start. The backend here is Redis (vmq_diversity.auth_redis.enabled).`
const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency', 'none']

const KEY_TABLE = [
  // node
  { key: 'nodename', type: str, default: 'VerneMQ@127.0.0.1', doc: 'Name of this node (name@host); other nodes and `cluster` commands use it.' },
  { key: 'distributed_cookie', type: str, default: 'vmq', doc: 'Shared secret every admin and cluster call must carry; change it in production.' },
  { key: 'discovery_node', type: str, default: '', doc: 'Node to join at start (name@host, name@host:port or host:port); empty = stand alone.' },
  { key: 'workers', type: int(0, 64), default: 1, doc: 'Broker processes on this machine, one per core at most; 0 = one per core. With more than one, each is a cluster member (name-wN@host) behind the shared MQTT listeners.' },
  { key: 'persistent_dir', type: path, default: './data', doc: 'Directory of the durable store (offline queues, retained messages, sessions).' },

  // MQTT behaviour
  { key: 'allow_anonymous', type: flag, default: false, settable: true, doc: 'on: clients connect without authentication (authorization still applies). Never on in production.' },
  { key: 'allow_register_during_netsplit', type: flag, default: false, settable: true, doc: 'Accept CONNECT while a cluster member is unreachable.' },
  { key: 'allow_publish_during_netsplit', type: flag, default: false, settable: true, doc: 'Accept PUBLISH while a cluster member is unreachable.' },
  { key: 'allow_subscribe_during_netsplit', type: flag, default: false, settable: true, doc: 'Accept SUBSCRIBE while a cluster member is unreachable.' },
  { key: 'allow_unsubscribe_during_netsplit', type: flag, default: false, settable: true, doc: 'Handle UNSUBSCRIBE while a cluster member is unreachable; off: no UNSUBACK, the subscriptions stay and the client sends it again (a client\'s allow_unsubscribe from an auth plugin wins).' },
  { key: 'coordinate_registrations', type: flag, default: true, settable: true, doc: 'Serialize registrations of one client id across the cluster.', applied: false },
  { key: 'allow_multiple_sessions', type: flag, default: false, doc: 'Several connections with one client id share its messages on this node instead of taking each other over (see queue_deliver_mode).' },
  { key: 'queue_deliver_mode', type: oneOf('fanout', 'balance'), default: 'fanout', doc: 'With allow_multiple_sessions: fanout = every session gets each message, balance = one of them in turn.' },
  { key: 'queue_type', type: oneOf('fifo', 'lifo'), default: 'fifo', settable: true, doc: 'Which end of a full queue is dropped, online (max_online_messages) and offline (max_offline_messages): fifo drops the new message, lifo the oldest.' },
  { key: 'retry_interval', type: int(1), default: 20, unit: 's', settable: true, doc: 'Resend an unacknowledged QoS 1/2 message after this many seconds.' },
  { key: 'max_inflight_messages', type: int(0), default: 20, settable: true, doc: 'Unacknowledged outgoing QoS 1/2 messages per session; 0 = unlimited.' },
  { key: 'max_online_messages', type: int(-1), default: 1000, settable: true, doc: 'Messages queued for an online session beyond the inflight window; -1 = unlimited (outgoing_buffer_limit still bounds their bytes).' },
  { key: 'outgoing_buffer_limit', type: { kind: 'bytes' }, default: 67108864, unit: 'bytes', settable: true, doc: 'Bytes one connection may hold: waiting to be written to it, plus the messages waiting in its online queue (payload and topic). A message that would pass it is dropped from the online queue as beyond max_online_messages (queue_type, queue_message_drop), also with max_online_messages = -1; a connection with more than this waiting to be written counts as not reading and is disconnected (MQTT 5: DISCONNECT 0x97). 0 = no limit.' },
  { key: 'max_offline_messages', type: int(-1), default: 1000, settable: true, doc: 'QoS 1/2 messages kept for an offline persistent session; -1 = unlimited, 0 = none.' },
  { key: 'override_max_online_messages', type: flag, default: false, settable: true, doc: 'Let the whole offline backlog into the online queue when a client reconnects.' },
  { key: 'max_message_rate', type: int(0), default: 0, settable: true, doc: 'PUBLISHes per second a connection may send; past it the node reads nothing more from the connection until the next second (nothing is dropped). 0 = unlimited.' },
  { key: 'max_message_size', type: { kind: 'bytes' }, default: 0, unit: 'bytes', settable: true, aliases: ['message_size_limit'], doc: 'Largest PUBLISH payload accepted; a client sending a larger one is disconnected. A packet announcing more than this + 128 KiB (topic, properties) is refused before its body is read (MQTT 5 clients are told this Maximum Packet Size in CONNACK). 0 = protocol maximum.' },
  { key: 'max_client_id_size', type: int(1, 65535), default: 23, settable: true, doc: 'Longest client id accepted; longer ones get CONNACK 2.' },
  { key: 'max_subscriptions_per_client', type: int(0), default: 0, settable: true, doc: 'Subscriptions per client; 0 = unlimited.' },
  { key: 'persistent_client_expiration', type: { kind: 'duration' }, default: null, settable: true, doc: 'Delete an offline persistent session after this long (1h, 1d, 1w, 1m, 1y or never).' },
  { key: 'max_last_will_delay', type: { kind: 'duration', none: 'client' }, default: null, settable: true, doc: 'MQTT 5: longest Will Delay Interval; a CONNECT asking more gets this (60s, 1h, ...); client = as the client asks. A change applies to connections made after it.' },
  { key: 'upgrade_outgoing_qos', type: flag, default: false, settable: true, doc: 'Deliver at the subscription QoS even when published with a lower one.' },
  { key: 'topic_max_depth', type: int(1, 100), default: 10, doc: 'Most levels a topic may have; a client publishing or subscribing deeper is disconnected.' },
  { key: 'shared_subscription_policy', type: oneOf('prefer_local', 'local_only', 'random', 'prefer_online_before_local'), default: 'prefer_local', settable: true, doc: 'Which member of a $share group gets a message.' },
  { key: 'shared_subscription_timeout_action', type: oneOf('ignore', 'requeue'), default: 'ignore', doc: 'What to do when a remote shared-subscription delivery times out.', applied: false },
  { key: 'remote_enqueue_timeout', type: int(0), default: 5000, unit: 'ms', settable: true, doc: 'Timeout of requests to other cluster members (retained replication, session takeover, subscription announcements).' },
  { key: 'suppress_lwt_on_session_takeover', type: flag, default: false, settable: true, doc: 'Do not publish the will of a connection another one takes over (same client id, on this node or another member).' },
  { key: 'receive_max_client', type: int(1, 65535), default: 65535, settable: true, doc: 'MQTT 5: unacknowledged QoS 1/2 messages the broker sends a client at once (also capped by max_inflight_messages and the client\'s Receive Maximum).' },
  { key: 'receive_max_broker', type: int(1, 65535), default: 65535, settable: true, doc: 'MQTT 5: unacknowledged QoS 1/2 PUBLISHes a client may send (Receive Maximum in CONNACK); one more gets DISCONNECT 0x93. A change applies to connections made after it.' },
  { key: 'topic_alias_max_client', type: int(0, 65535), default: 0, settable: true, doc: 'MQTT 5: topic aliases towards clients (up to the Topic Alias Maximum of the client\'s CONNECT); once all are used, other topics go out in full. 0 = off. A change applies to connections made after it.' },
  { key: 'topic_alias_max_broker', type: int(0, 65535), default: 0, settable: true, doc: 'MQTT 5: topic aliases accepted from clients (Topic Alias Maximum in CONNACK); a larger alias gets DISCONNECT 0x94. 0 = off. A change applies to CONNACKs and aliased PUBLISHes from then on.' },
  { key: 'max_keepalive', type: int(0, 65535), default: 0, unit: 's', settable: true, doc: 'MQTT 5: longest keep alive a client may use; one asking more, or 0, is told this value (Server Keep Alive) and held to it. 0 = no limit. MQTT 3.1.1 clients keep their own value.' },
  { key: 'disconnect_on_unauthorized_publish_v3', type: flag, default: false, settable: true, doc: 'Also close the connection of MQTT 3.1 clients and bridges on a denied PUBLISH (off: it is acknowledged and dropped; MQTT 3.1.1 connections are always closed, MQTT 5 gets 0x87).' },
  { key: 'subscriber_retain_mode', type: oneOf('immediate', 'syncwait'), default: 'immediate', settable: true, doc: 'syncwait: wait for the retained store to sync before delivering retained messages.', applied: false },
  { key: 'expire_retain_cache', type: int(0), default: 0, unit: 's', doc: 'Every that many seconds, retained messages whose MQTT 5 Message Expiry Interval has passed are deleted from the store (they are never delivered once expired); 0 = never.' },
  { key: 'mqtt_connect_timeout', type: int(1), default: 5000, unit: 'ms', settable: true, doc: 'Time a new connection has to send CONNECT.' },
  { key: 'cluster_ready_rpc_timeout', type: int(1), default: 10000, unit: 'ms', settable: true, doc: 'Timeout of the readiness check of a cluster member.', applied: false },
  { key: 'systree_enabled', type: flag, default: true, settable: true, doc: 'Publish the node\'s metrics (the names of /metrics, without namespace, `_` becoming `/`: $SYS/<nodename>/mqtt/publish/received) every systree_interval, QoS 0, not retained, to subscribers on any member.' },
  { key: 'systree_interval', type: int(0), default: 20000, unit: 'ms', settable: true, doc: 'Interval of the $SYS metrics; 0 = none published.' },
  { key: 'graphite_enabled', type: flag, default: false, settable: true, doc: 'Send metrics to Graphite.', applied: false },
  { key: 'graphite_host', type: str, default: 'localhost', settable: true, doc: 'Graphite host.', applied: false },
  { key: 'graphite_port', type: int(1, 65535), default: 2003, settable: true, doc: 'Graphite port.', applied: false },
  { key: 'graphite_interval', type: int(1), default: 20000, unit: 'ms', settable: true, doc: 'Graphite reporting interval.', applied: false },
  { key: 'graphite_include_labels', type: flag, default: false, settable: true, doc: 'Include metric labels in Graphite names.', applied: false },
  { key: 'http_module.vmq_metrics_http.auth.mode', type: oneOf('noauth', 'apikey'), default: 'noauth', doc: 'apikey: GET /metrics needs an API key of scope metrics (`vmq-admin api-key`), else 401.' },
  { key: 'http_module.vmq_health_http.auth.mode', type: oneOf('noauth', 'apikey'), default: 'noauth', doc: 'apikey: the /health paths need an API key of scope health, else 401.' },
  { key: 'http_module.vmq_status_http.auth.mode', type: oneOf('noauth', 'apikey'), default: 'noauth', doc: 'apikey: the status page needs an API key of scope status, else 401.' },
  { key: 'min_apikey_length', type: int(0), default: 0, doc: 'Shortest API key `api-key add` accepts; `api-key create` makes keys of 32 characters or this length if longer.' },
  { key: 'max_apikey_expiry_days', type: int(0), default: 0, doc: 'When above 0, every new API key must have an expiry date within this many days. 0 = no limit.' },
  { key: 'prometheus_namespace', type: str, default: 'vernemq_', settable: true, doc: 'Prefix of every Prometheus metric name on GET /metrics of the HTTP listener (listener.http.NAME).' },
  { key: 'crl_refresh_interval', type: int(0), default: 60000, unit: 'ms', doc: 'VerneMQ: how often it re-reads the crlfile of its TLS listeners. vmq-ts re-reads a listener\'s certificate files, crlfile included, when they change.', applied: false },
  { key: 'metadata_plugin', type: oneOf('vmq_swc', 'vmq_plumtree'), default: 'vmq_swc', doc: 'Accepted for compatibility; vmq-ts has one cluster protocol.', applied: false },
  { key: 'message_store_plugin', type: str, default: 'vmq_generic_msg_store', doc: 'Accepted for compatibility; vmq-ts always uses its LevelDB store.', applied: false },
  { key: 'logging.keepalive_as_warning', type: flag, default: true, doc: 'Log the connections closed for a keepalive timeout as warnings (off: info).' },
  { key: 'logging.obfuscation_secret', type: str, default: 'random', doc: 'VerneMQ: secret with which credentials are obfuscated in its process memory and crash reports. vmq-ts writes no crash reports.', applied: false },

  // logging
  { key: 'log.console', type: oneOf('off', 'file', 'console', 'both'), default: 'console', doc: 'Where the main log goes: off, file (log.console.file), console (stdout) or both.' },
  { key: 'log.console.level', type: oneOf(...LOG_LEVELS), default: 'info', doc: 'Lowest level logged.' },
  { key: 'log.console.file', type: path, default: './log/console.log', doc: 'File of the main log when log.console is file or both.' },
  { key: 'log.console.console.format', type: oneOf('text', 'json'), default: 'text', doc: 'Format of the console log.' },
  { key: 'log.console.file.format', type: oneOf('text', 'json'), default: 'text', doc: 'Format of the log file.' },
  { key: 'log.error', type: flag, default: true, doc: 'Also write errors to log.error.file.' },
  { key: 'log.error.file.format', type: oneOf('text', 'json'), default: 'text', doc: 'Format of the error log file.' },
  { key: 'log.error.file', type: path, default: './log/error.log', doc: 'File that receives error and worse messages.' },
  { key: 'log.console.rotation.size', type: { kind: 'integer_or_infinity', min: 1 }, default: Infinity, unit: 'bytes', doc: 'Rotate log.console.file past this size: it becomes <file>.0, older ones move up; infinity = never. The node also reopens its log files on SIGHUP (logrotate).' },
  { key: 'log.console.rotation.keep', type: int(0), default: 5, doc: 'Rotated console log files kept; 0 = the file is emptied instead.' },
  { key: 'log.console.rotation.compress_on_rotate', type: flag, default: false, doc: 'gzip a rotated console log file (<file>.0.gz).' },
  { key: 'log.error.rotation.size', type: { kind: 'integer_or_infinity', min: 1 }, default: Infinity, unit: 'bytes', doc: 'Rotate log.error.file past this size; infinity = never.' },
  { key: 'log.error.rotation.keep', type: int(0), default: 5, doc: 'Rotated error log files kept; 0 = the file is emptied instead.' },
  { key: 'log.error.rotation.compress_on_rotate', type: flag, default: false, doc: 'gzip a rotated error log file.' },
  { key: 'log.syslog', type: flag, default: false, doc: 'Also log to the local syslog socket.' },
  { key: 'log.syslog.facility', type: oneOf('kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'), default: 'daemon', doc: 'Syslog facility.' },
  { key: 'log.syslog.ident', type: str, default: 'vernemq', aliases: ['log.syslog.app_name'], doc: 'Syslog identity (app name).' },
  { key: 'log.syslog.level', type: oneOf(...LOG_LEVELS), default: 'info', doc: 'Lowest level sent to syslog.' },

  // plugins
  { key: 'plugins.vmq_passwd', type: flag, default: true, doc: 'Authenticate CONNECT against vmq_passwd.password_file.' },
  { key: 'plugins.vmq_acl', type: flag, default: true, doc: 'Authorize PUBLISH and SUBSCRIBE with vmq_acl.acl_file.' },
  { key: 'plugins.vmq_diversity', type: flag, default: false, doc: 'Database auth plugins: Redis (with vmq_diversity.auth_redis.enabled = on).' },
  { key: 'plugins.vmq_webhooks', type: flag, default: false, doc: 'Call HTTP endpoints for VerneMQ\'s plugin hooks (vmq_webhooks.NAME.hook / .endpoint, or `vmq-admin webhooks register`).' },
  { key: 'plugins.vmq_bridge', type: flag, default: false, doc: 'Run the MQTT bridges defined by vmq_bridge.tcp.NAME / vmq_bridge.ssl.NAME (see Bridges).' },
  { key: 'vmq_passwd.password_file', type: path, default: './vmq.passwd', settable: true, doc: 'Password file (vmq-passwd / mosquitto_passwd format).' },
  { key: 'vmq_passwd.password_reload_interval', type: int(0), default: 10, unit: 's', settable: true, doc: 'Re-read the password file this often; 0 = never.' },
  { key: 'vmq_acl.acl_file', type: path, default: './vmq.acl', settable: true, doc: 'ACL file (VerneMQ grammar).' },
  { key: 'vmq_acl.acl_reload_interval', type: int(0), default: 10, unit: 's', settable: true, doc: 'Re-read the ACL file this often; 0 = never.' },
  { key: 'vmq_diversity.auth_postgres.enabled', type: flag, default: false, doc: backendDoc('PostgreSQL') },
  { key: 'vmq_diversity.auth_cockroachdb.enabled', type: flag, default: false, doc: backendDoc('CockroachDB') },
  { key: 'vmq_diversity.auth_mysql.enabled', type: flag, default: false, doc: backendDoc('MySQL') },
  { key: 'vmq_diversity.auth_mysql2.enabled', type: flag, default: false, doc: backendDoc('MySQL (mysql2)') },
  { key: 'vmq_diversity.auth_mongodb.enabled', type: flag, default: false, doc: backendDoc('MongoDB') },
  { key: 'vmq_webhooks.pool_max_connections', type: int(1), default: 100, settable: true, doc: 'Most connections kept open to one webhook endpoint; more requests wait for a free one (within their response_timeout).' },
  { key: 'vmq_webhooks.pool_timeout', type: int(1), default: 60000, unit: 'ms', settable: true, doc: 'An idle connection to a webhook endpoint is closed after this long.' },
  { key: 'vmq_webhooks.cafile', type: path, default: '', settable: true, doc: 'CA certificates (PEM) that sign https:// webhook endpoints; empty = Node\'s default CAs.' },
  { key: 'vmq_webhooks.certfile', type: path, default: '', settable: true, doc: 'Client certificate (PEM) presented to https:// webhook endpoints.' },
  { key: 'vmq_webhooks.keyfile', type: path, default: '', settable: true, doc: 'Key (PEM, unencrypted) of vmq_webhooks.certfile.' },
  { key: 'vmq_webhooks.depth', type: int(0), default: 100, settable: true, doc: 'Most intermediate CAs allowed between the certificate of an https:// webhook endpoint and the trusted root (with verify_peer on); a longer chain fails the call.' },
  { key: 'vmq_webhooks.verify_peer', type: flag, default: true, settable: true, doc: 'Verify the certificate and name of https:// webhook endpoints.' },
  { key: 'vmq_webhooks.tls_version', type: oneOf('tlsv1.2', 'tlsv1.3'), default: 'tlsv1.2', settable: true, doc: 'The TLS version used with https:// webhook endpoints (that one only, as in VerneMQ).' },
  { key: 'vmq_diversity.auth_redis.enabled', type: flag, default: false, doc: 'Authenticate CONNECT and authorize PUBLISH/SUBSCRIBE with the JSON values stored in Redis under [mountpoint, client_id, username].' },
  { key: 'vmq_diversity.redis.host', type: str, default: 'localhost', doc: 'Redis host.' },
  { key: 'vmq_diversity.redis.port', type: int(1, 65535), default: 6379, doc: 'Redis port.' },
  { key: 'vmq_diversity.redis.password', type: str, default: '', doc: 'Redis password.' },
  { key: 'vmq_diversity.redis.user', type: str, default: '', doc: 'Redis ACL user (Redis 6+).' },
  { key: 'vmq_diversity.redis.database', type: int(0), default: 0, doc: 'Redis database number.' },
  { key: 'vmq_diversity.redis.pool_size', type: int(1), default: 5, doc: 'Accepted for compatibility: vmq-ts uses one pipelined connection.', applied: false },
  { key: 'vmq_diversity.keep_state', type: flag, default: false, settable: true, doc: 'Accepted for compatibility.', applied: false }
] as const satisfies readonly KeyDef[]

/** The name of a key of the table: `settings.number('max_inflight_mesages')` does not compile. */
export type SettingKey = typeof KEY_TABLE[number]['key']

export const KEYS: readonly KeyDef[] = KEY_TABLE

/** Listener types, as in `listener.<type>.<name> = ip:port`. */
export const LISTENER_TYPES = ['tcp', 'ssl', 'ws', 'wss', 'vmq', 'vmqs', 'http', 'https'] as const
export type ListenerType = typeof LISTENER_TYPES[number]

/**
 * Listener options: set for all listeners (`listener.<opt>`), per type
 * (`listener.tcp.<opt>`) or per listener (`listener.tcp.<name>.<opt>`); the most
 * specific wins.
 */
export const LISTENER_OPTIONS: readonly KeyDef[] = [
  { key: 'max_connections', type: { kind: 'integer_or_infinity', min: 0 }, default: 10000, doc: 'Connections a listener accepts at once; more are refused.' },
  { key: 'nr_of_acceptors', type: int(1), default: 10, doc: 'Accepted for compatibility: Node accepts connections on one event loop, so this has no effect.', applied: false },
  { key: 'mountpoint', type: str, default: '', doc: 'Topic prefix that isolates the clients of this listener; off = none.' },
  { key: 'allowed_protocol_versions', type: { kind: 'versions' }, default: '3,4,5', doc: 'MQTT protocol levels accepted (3 = 3.1, 4 = 3.1.1, 5 = 5.0).' },
  { key: 'allow_anonymous_override', type: flag, default: false, doc: 'Clients of this listener connect without authentication.' },
  { key: 'max_connection_lifetime', type: int(0), default: 0, unit: 's', doc: 'Close a connection this long after its CONNECT was accepted (MQTT 5: DISCONNECT 0x98 first), so clients authenticate again; 0 = never. A plugin\'s max_connection_lifetime applies too: the first to run out closes it.' },
  { key: 'proxy_protocol', type: flag, default: false, doc: 'Expect a PROXY protocol v1/v2 header before MQTT (tcp, ssl, ws and wss listeners); the client address it carries is the peer address.' },
  { key: 'proxy_protocol_use_cn_as_username', type: flag, default: true, doc: 'Use the CN of a PROXY v2 TLS TLV (certificate verified by the proxy) as username; auth plugins are skipped.' },
  { key: 'cafile', type: path, default: '', doc: 'CA certificates (PEM).' },
  { key: 'certfile', type: path, default: '', doc: 'Server certificate (PEM); certificate files are re-read when they change or on `tls clear-pem-cache`.' },
  { key: 'keyfile', type: path, default: '', doc: 'Server private key (PEM).' },
  { key: 'keypasswd', type: str, default: '', doc: 'Passphrase of keyfile.' },
  { key: 'ciphers', type: str, default: '', doc: 'OpenSSL cipher list, colon separated; empty = Node defaults.' },
  { key: 'eccs', type: str, default: '', doc: 'Elliptic curves for key exchange, comma separated (e.g. prime256v1,secp384r1); empty = Node defaults.' },
  { key: 'crlfile', type: path, default: '', doc: 'Certificate revocation list (PEM).' },
  { key: 'depth', type: int(0), default: 1, doc: 'Most intermediate CAs allowed between a client certificate and the trusted root.' },
  { key: 'tls_version', type: oneOf('tlsv1.2', 'tlsv1.3'), default: 'tlsv1.2', doc: 'Lowest TLS version accepted.' },
  { key: 'require_certificate', type: flag, default: false, doc: 'Refuse clients without a certificate signed by cafile.' },
  { key: 'use_identity_as_username', type: flag, default: false, doc: 'The client certificate CN becomes the username; other auth plugins are skipped.' },
  { key: 'tls_handshake_timeout', type: int(1), default: 5000, unit: 'ms', doc: 'Time a TLS handshake may take.' },
  { key: 'http_module.vmq_metrics_http.auth.mode', type: oneOf('noauth', 'apikey'), default: null, doc: 'HTTP listeners: overrides http_module.vmq_metrics_http.auth.mode for this listener (listener.http.NAME.http_module...).' },
  { key: 'http_module.vmq_health_http.auth.mode', type: oneOf('noauth', 'apikey'), default: null, doc: 'HTTP listeners: overrides http_module.vmq_health_http.auth.mode for this listener.' },
  { key: 'http_module.vmq_status_http.auth.mode', type: oneOf('noauth', 'apikey'), default: null, doc: 'HTTP listeners: overrides http_module.vmq_status_http.auth.mode for this listener.' },
  { key: 'max_ws_frame_size', type: { kind: 'bytes' }, default: 268435456, doc: 'Largest WebSocket frame accepted. Also written as the plain key max_ws_frame_size (VerneMQ\'s name), which sets it for every listener.' },
  { key: 'buffer_sizes', type: str, default: '', doc: 'VerneMQ: Erlang socket buffer sizes (tcp, ssl, vmq); Node sizes its socket buffers itself.', applied: false },
  { key: 'active_n', type: int(1), default: 100, doc: 'VerneMQ: Erlang socket active_n (tcp, ssl); no counterpart in Node.', applied: false },
  { key: 'high_watermark', type: { kind: 'bytes' }, default: 8192, doc: 'VerneMQ: Erlang socket send high watermark of the cluster listener.', applied: false },
  { key: 'low_watermark', type: { kind: 'bytes' }, default: 4096, doc: 'VerneMQ: Erlang socket send low watermark of the cluster listener.', applied: false },
  { key: 'high_msgq_watermark', type: { kind: 'bytes' }, default: 8192, doc: 'VerneMQ: Erlang port queue high watermark of the cluster listener.', applied: false },
  { key: 'low_msgq_watermark', type: { kind: 'bytes' }, default: 4096, doc: 'VerneMQ: Erlang port queue low watermark of the cluster listener.', applied: false },
  { key: 'forward_connection_opts', type: flag, default: false, doc: 'VerneMQ: hand the listener\'s socket options to the plugins\' hooks; vmq-ts hooks get none.', applied: false },
  { key: 'proxy_xff_support', type: flag, default: false, doc: 'VerneMQ: take the client address of a WebSocket connection from X-Forwarded-For; vmq-ts uses the socket\'s address (or the PROXY protocol header, see proxy_protocol).', applied: false },
  { key: 'proxy_xff_trusted_intermediate', type: str, default: '', doc: 'VerneMQ: proxies trusted in X-Forwarded-For (see proxy_xff_support).', applied: false },
  { key: 'proxy_xff_use_cn_as_username', type: flag, default: true, doc: 'VerneMQ: username from the proxy\'s client-certificate header (see proxy_xff_support).', applied: false },
  { key: 'proxy_xff_cn_header', type: str, default: 'x-ssl-client-cn', doc: 'VerneMQ: header that carries the client certificate CN (see proxy_xff_support).', applied: false },
  { key: 'auth_plugins', type: str, default: '', doc: 'VerneMQ: the auth_on_register plugins this listener consults; vmq-ts consults every enabled auth plugin on every listener.', applied: false },
  { key: 'authz_plugins', type: str, default: '', doc: 'VerneMQ: the auth_on_publish/subscribe plugins this listener consults; vmq-ts consults every enabled plugin on every listener.', applied: false },
  { key: 'max_request_line_length', type: int(1), default: 8000, doc: 'VerneMQ: longest HTTP request line (http, https, ws, wss); Node applies its own limit.', applied: false },
  { key: 'max_header_value_length', type: int(1), default: 4096, doc: 'VerneMQ: longest HTTP header value (http, https, ws, wss); Node applies its own limit (16 KiB of headers).', applied: false },
  { key: 'psk_support', type: flag, default: false, doc: 'VerneMQ: TLS-PSK on an ssl listener; vmq-ts offers certificates only, so PSK clients fail the handshake.', applied: false },
  { key: 'psk_identity_hint', type: str, default: 'VMQ_PSK', doc: 'VerneMQ: TLS-PSK identity hint (see psk_support).', applied: false },
  { key: 'pskfile', type: path, default: '', doc: 'VerneMQ: file of TLS-PSK identities and keys (see psk_support).', applied: false },
  { key: 'pskfile_separator', type: str, default: ':', doc: 'VerneMQ: separator of identity and key in pskfile (see psk_support).', applied: false }
]

/** Listener options VerneMQ writes as plain keys (`max_ws_frame_size = ...`): they set the option for every listener. */
export const PLAIN_LISTENER_OPTIONS: readonly string[] = ['max_ws_frame_size']

/**
 * Families of VerneMQ keys with a free part in their name (`plugins.<name>.path`),
 * accepted without effect. `pattern` matches the whole key.
 */
export interface PatternKeyDef extends KeyDef { pattern: RegExp }

const backendSetting = (backend: string, name: string): PatternKeyDef => ({
  key: `vmq_diversity.${backend}.<setting>`, pattern: new RegExp(`^vmq_diversity\\.${backend}\\.[a-z_.]+$`), type: str, default: '', applied: false,
  doc: `VerneMQ: a setting of its ${name} backend, which vmq-ts does not have (the backend here is Redis).`
})

export const PATTERN_KEYS: readonly PatternKeyDef[] = [
  { key: 'plugins.<name>', pattern: /^plugins\.[^.]+$/, type: flag, default: false, applied: false, doc: 'A VerneMQ plugin vmq-ts does not have: off is accepted, on refuses the start naming it and listing the plugins here.' },
  { key: 'plugins.<name>.path', pattern: /^plugins\.[^.]+\.path$/, type: path, default: '', applied: false, doc: 'VerneMQ: directory of an Erlang plugin to load; vmq-ts loads no external plugins.' },
  { key: 'plugins.<name>.priority', pattern: /^plugins\.[^.]+\.priority$/, type: int(0), default: 0, applied: false, doc: 'VerneMQ: order in which plugins are called; vmq-ts loads no external plugins and calls its own in a fixed order.' },
  { key: 'vmq_diversity.auth_<backend>.script', pattern: /^vmq_diversity\.auth_[a-z0-9]+\.script$/, type: path, default: '', applied: false, doc: 'VerneMQ: the Lua script behind a vmq_diversity backend; vmq-ts runs no Lua (its Redis auth is built in).' },
  { key: 'vmq_diversity.<script>.file', pattern: /^vmq_diversity\.[^.]+\.file$/, type: path, default: '', applied: false, doc: 'VerneMQ: a Lua script vmq_diversity loads; vmq-ts runs no Lua (its Redis auth is built in).' },
  backendSetting('postgres', 'PostgreSQL'),
  backendSetting('cockroachdb', 'CockroachDB'),
  backendSetting('mysql', 'MySQL'),
  backendSetting('mysql2', 'MySQL (mysql2)'),
  backendSetting('mongodb', 'MongoDB'),
  backendSetting('memcache', 'memcached'),
  { key: 'vmq_web_ui.<setting>', pattern: /^vmq_web_ui\.[a-z_.]+$/, type: str, default: '', applied: false, doc: 'VerneMQ: a setting of its web UI, which vmq-ts does not ship (its status page is on the HTTP listener).' }
]

const byName = new Map<string, KeyDef>()
for (const def of KEYS) {
  byName.set(def.key, def)
  for (const alias of def.aliases ?? []) byName.set(alias, def)
}
const listenerOptionByName = new Map(LISTENER_OPTIONS.map(d => [d.key, d]))

/** The definition of a plain (non-listener) key or alias. */
export function findKey (key: string): KeyDef | undefined {
  return byName.get(key)
}

/** The family a key with a free part in its name belongs to (`plugins.foo.path`). */
export function findPatternKey (key: string): PatternKeyDef | undefined {
  return PATTERN_KEYS.find(def => def.pattern.test(key))
}

/** The plugins of vmq-ts, as `plugins.<name>` keys. */
export function pluginNames (): string[] {
  return KEYS.filter(def => /^plugins\.[^.]+$/.test(def.key)).map(def => def.key.slice('plugins.'.length))
}

export function findListenerOption (option: string): KeyDef | undefined {
  return listenerOptionByName.get(option)
}

export function isListenerType (word: string): word is ListenerType {
  return (LISTENER_TYPES as readonly string[]).includes(word)
}

/** Every key name an operator may write, for "did you mean" suggestions. */
export function allKeyNames (): string[] {
  return [...byName.keys(), ...LISTENER_OPTIONS.map(d => 'listener.' + d.key)]
}

/**
 * Keys of VerneMQ that vmq-ts accepts and ignores: tuning of the Erlang VM,
 * its processes and sockets, LevelDB, and plugins we do not ship. A file using
 * them still loads, with a warning.
 */
export const IGNORED_PREFIXES = [
  'erlang.', 'leveldb.', 'vmq_swc.', 'vmq_plumtree.', 'plumtree.', 'vmq_generic_msg_store.',
  'vmq_bcrypt.', 'vmq_diversity.script_dir', 'vmq_diversity.nr_lua_states', 'vmq_diversity.clique_lead_line',
  'log.crash', 'log.sasl', 'log.level', 'log.error.format', 'log.template', 'log.syslog.format', 'log.syslog.remote', 'http_module', 'accept_eula',
  'outgoing_clustering_buffer_size', 'incoming_clustering_buffer_size', 'outgoing_clustering_flush_threshold', 'outgoing_cluster_handshake_ack_timeout',
  'max_drain_time', 'max_msgs_per_drain_step', 'platform_', 'systree_', 'graphite_',
  // Erlang process, socket and scheduler tuning, and riak_sysmon's runtime health monitor
  'queue_sup_sup_children', 'fanout.', 'default_reg_view', 'reg_views', 'tcp_listen_options', 'outgoing_connect_options', 'wait_for_proc',
  'default_schema_dir', 'setup.', 'runtime_health.', 'vmq_http_pub.'
]
