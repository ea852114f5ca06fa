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
  { key: 'allow_unsubscribe_during_netsplit', type: flag, default: false, settable: true, doc: 'Accept UNSUBSCRIBE while a cluster member is unreachable.', applied: false },
  { key: 'coordinate_registrations', type: flag, default: true, settable: true, doc: 'Serialize registrations of one client id across the cluster.', applied: false },
  { key: 'allow_multiple_sessions', type: flag, default: false, doc: 'Several connections with one client id share its messages on this node instead of taking each other over (see queue_deliver_mode).' },
  { key: 'queue_deliver_mode', type: oneOf('fanout', 'balance'), default: 'fanout', doc: 'With allow_multiple_sessions: fanout = every session gets each message, balance = one of them in turn.' },
  { key: 'queue_type', type: oneOf('fifo', 'lifo'), default: 'fifo', settable: true, doc: 'Which end of a full queue is dropped: fifo drops the new message, lifo the oldest.' },
  { key: 'retry_interval', type: int(1), default: 20, unit: 's', settable: true, doc: 'Resend an unacknowledged QoS 1/2 message after this many seconds.' },
  { key: 'max_inflight_messages', type: int(0), default: 20, settable: true, doc: 'Unacknowledged outgoing QoS 1/2 messages per session; 0 = unlimited.' },
  { key: 'max_online_messages', type: int(-1), default: 1000, settable: true, doc: 'Messages queued for an online session beyond the inflight window; -1 = unlimited.' },
  { key: 'outgoing_buffer_limit', type: { kind: 'bytes' }, default: 67108864, unit: 'bytes', settable: true, doc: 'Bytes waiting to be written to one connection beyond which the client counts as not reading and is disconnected (MQTT 5: DISCONNECT 0x97); 0 = no limit.' },
  { key: 'max_offline_messages', type: int(-1), default: 1000, settable: true, doc: 'QoS 1/2 messages kept for an offline persistent session; -1 = unlimited, 0 = none.' },
  { key: 'override_max_online_messages', type: flag, default: false, settable: true, doc: 'Let the whole offline backlog into the online queue when a client reconnects.' },
  { key: 'max_message_rate', type: int(0), default: 0, settable: true, doc: 'Incoming PUBLISH per second per session; 0 = unlimited.', applied: false },
  { key: 'max_message_size', type: { kind: 'bytes' }, default: 0, unit: 'bytes', settable: true, aliases: ['message_size_limit'], doc: 'Largest PUBLISH payload accepted; a client sending a larger one is disconnected. A packet announcing more than this + 128 KiB (topic, properties) is refused before its body is read (MQTT 5 clients are told this Maximum Packet Size in CONNACK). 0 = protocol maximum.' },
  { key: 'max_client_id_size', type: int(1, 65535), default: 23, settable: true, doc: 'Longest client id accepted; longer ones get CONNACK 2.' },
  { key: 'max_subscriptions_per_client', type: int(0), default: 0, settable: true, doc: 'Subscriptions per client; 0 = unlimited.' },
  { key: 'persistent_client_expiration', type: { kind: 'duration' }, default: null, settable: true, doc: 'Delete an offline persistent session after this long (1h, 1d, 1w, 1m, 1y or never).' },
  { key: 'max_last_will_delay', type: str, default: 'client', settable: true, doc: 'MQTT 5: cap on the will delay interval; client = honour the client value.', applied: false },
  { key: 'upgrade_outgoing_qos', type: flag, default: false, settable: true, doc: 'Deliver at the subscription QoS even when published with a lower one.' },
  { key: 'topic_max_depth', type: int(1, 100), default: 10, doc: 'Most levels a topic may have; a client publishing or subscribing deeper is disconnected.' },
  { key: 'shared_subscription_policy', type: oneOf('prefer_local', 'local_only', 'random', 'prefer_online_before_local'), default: 'prefer_local', settable: true, doc: 'Which member of a $share group gets a message.' },
  { key: 'shared_subscription_timeout_action', type: oneOf('ignore', 'requeue'), default: 'ignore', doc: 'What to do when a remote shared-subscription delivery times out.', applied: false },
  { key: 'remote_enqueue_timeout', type: int(0), default: 5000, unit: 'ms', settable: true, doc: 'Timeout of requests to other cluster members (retained replication, session takeover, subscription announcements).' },
  { key: 'suppress_lwt_on_session_takeover', type: flag, default: false, settable: true, doc: 'Do not publish the will when a session is taken over.', applied: false },
  { key: 'receive_max_client', type: int(1, 65535), default: 65535, settable: true, doc: 'MQTT 5: unacknowledged QoS 1/2 messages the broker sends a client at once (also capped by max_inflight_messages and the client\'s Receive Maximum).' },
  { key: 'receive_max_broker', type: int(1, 65535), default: 65535, settable: true, doc: 'MQTT 5: unacknowledged QoS 1/2 PUBLISHes a client may send (Receive Maximum in CONNACK); one more gets DISCONNECT 0x93. A change applies to connections made after it.' },
  { key: 'topic_alias_max_client', type: int(0, 65535), default: 0, settable: true, doc: 'MQTT 5: topic aliases towards clients (up to the Topic Alias Maximum of the client\'s CONNECT); once all are used, other topics go out in full. 0 = off. A change applies to connections made after it.' },
  { key: 'topic_alias_max_broker', type: int(0, 65535), default: 0, settable: true, doc: 'MQTT 5: topic aliases accepted from clients (Topic Alias Maximum in CONNACK); a larger alias gets DISCONNECT 0x94. 0 = off. A change applies to CONNACKs and aliased PUBLISHes from then on.' },
  { key: 'max_keepalive', type: int(0, 65535), default: 0, unit: 's', settable: true, doc: 'MQTT 5: longest keep alive a client may use; one asking more, or 0, is told this value (Server Keep Alive) and held to it. 0 = no limit. MQTT 3.1.1 clients keep their own value.' },
  { key: 'disconnect_on_unauthorized_publish_v3', type: flag, default: false, settable: true, doc: 'Also disconnect MQTT 3.1 clients on a denied PUBLISH.', applied: false },
  { key: 'subscriber_retain_mode', type: oneOf('immediate', 'syncwait'), default: 'immediate', settable: true, doc: 'syncwait: wait for the retained store to sync before delivering retained messages.', applied: false },
  { key: 'expire_retain_cache', type: int(0), default: 0, unit: 's', doc: 'Interval of the cleanup of expired retained messages; 0 = off.', applied: false },
  { key: 'mqtt_connect_timeout', type: int(1), default: 5000, unit: 'ms', settable: true, doc: 'Time a new connection has to send CONNECT.' },
  { key: 'cluster_ready_rpc_timeout', type: int(1), default: 10000, unit: 'ms', settable: true, doc: 'Timeout of the readiness check of a cluster member.', applied: false },
  { key: 'systree_enabled', type: flag, default: true, settable: true, doc: 'Publish node metrics under $SYS/<nodename>/.', applied: false },
  { key: 'systree_interval', type: int(0), default: 20000, unit: 'ms', settable: true, doc: 'Interval of the $SYS metrics.', applied: false },
  { key: 'graphite_enabled', type: flag, default: false, settable: true, doc: 'Send metrics to Graphite.', applied: false },
  { key: 'graphite_host', type: str, default: 'localhost', settable: true, doc: 'Graphite host.', applied: false },
  { key: 'graphite_port', type: int(1, 65535), default: 2003, settable: true, doc: 'Graphite port.', applied: false },
  { key: 'graphite_interval', type: int(1), default: 20000, unit: 'ms', settable: true, doc: 'Graphite reporting interval.', applied: false },
  { key: 'graphite_include_labels', type: flag, default: false, settable: true, doc: 'Include metric labels in Graphite names.', applied: false },
  { key: 'prometheus_namespace', type: str, default: 'vernemq_', settable: true, doc: 'Prefix of every Prometheus metric name on GET /metrics of the HTTP listener (listener.http.NAME).' },
  { key: 'metadata_plugin', type: oneOf('vmq_swc', 'vmq_plumtree'), default: 'vmq_swc', doc: 'Accepted for compatibility; vmq-ts has one cluster protocol.', applied: false },
  { key: 'message_store_plugin', type: str, default: 'vmq_generic_msg_store', doc: 'Accepted for compatibility; vmq-ts always uses its LevelDB store.', applied: false },
  { key: 'logging.keepalive_as_warning', type: flag, default: true, doc: 'Log keepalive timeouts as warnings (off: info).', applied: false },

  // logging
  { key: 'log.console', type: oneOf('off', 'file', 'console', 'both'), default: 'console', doc: 'Where the main log goes: off, file (log.console.file), console (stdout) or both.' },
  { key: 'log.console.level', type: oneOf(...LOG_LEVELS), default: 'info', doc: 'Lowest level logged.' },
  { key: 'log.console.file', type: path, default: './log/console.log', doc: 'File of the main log when log.console is file or both.' },
  { key: 'log.console.console.format', type: oneOf('text', 'json'), default: 'text', doc: 'Format of the console log.' },
  { key: 'log.console.file.format', type: oneOf('text', 'json'), default: 'text', doc: 'Format of the log file.' },
  { key: 'log.error', type: flag, default: true, doc: 'Also write errors to log.error.file.' },
  { key: 'log.error.file', type: path, default: './log/error.log', doc: 'File that receives error and worse messages.' },
  { key: 'log.syslog', type: flag, default: false, doc: 'Also log to the local syslog socket.' },
  { key: 'log.syslog.facility', type: oneOf('kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'), default: 'daemon', doc: 'Syslog facility.' },
  { key: 'log.syslog.ident', type: str, default: 'vernemq', aliases: ['log.syslog.app_name'], doc: 'Syslog identity (app name).' },
  { key: 'log.syslog.level', type: oneOf(...LOG_LEVELS), default: 'info', doc: 'Lowest level sent to syslog.' },

  // plugins
  { key: 'plugins.vmq_passwd', type: flag, default: true, doc: 'Authenticate CONNECT against vmq_passwd.password_file.' },
  { key: 'plugins.vmq_acl', type: flag, default: true, doc: 'Authorize PUBLISH and SUBSCRIBE with vmq_acl.acl_file.' },
  { key: 'plugins.vmq_diversity', type: flag, default: false, doc: 'Database auth plugins: Redis (with vmq_diversity.auth_redis.enabled = on).' },
  { key: 'plugins.vmq_webhooks', type: flag, default: false, doc: 'Accepted for compatibility; webhooks are not implemented.', applied: false },
  { key: 'plugins.vmq_bridge', type: flag, default: false, doc: 'Run the MQTT bridges defined by vmq_bridge.tcp.NAME / vmq_bridge.ssl.NAME (see Bridges).' },
  { key: 'vmq_passwd.password_file', type: path, default: './vmq.passwd', settable: true, doc: 'Password file (vmq-passwd / mosquitto_passwd format).' },
  { key: 'vmq_passwd.password_reload_interval', type: int(0), default: 10, unit: 's', settable: true, doc: 'Re-read the password file this often; 0 = never.' },
  { key: 'vmq_acl.acl_file', type: path, default: './vmq.acl', settable: true, doc: 'ACL file (VerneMQ grammar).' },
  { key: 'vmq_acl.acl_reload_interval', type: int(0), default: 10, unit: 's', settable: true, doc: 'Re-read the ACL file this often; 0 = never.' },
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
  { key: 'max_connection_lifetime', type: int(0), default: 0, unit: 's', doc: 'Close connections after this long; 0 = never.', applied: false },
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
  { key: 'max_ws_frame_size', type: { kind: 'bytes' }, default: 268435456, doc: 'Largest WebSocket frame accepted.' }
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
 * Keys of VerneMQ that vmq-ts accepts and ignores (the Erlang VM, LevelDB
 * tuning, plugins we do not ship). A file using them still loads, with a warning.
 */
export const IGNORED_PREFIXES = [
  'erlang.', 'leveldb.', 'vmq_swc.', 'vmq_plumtree.', 'vmq_generic_msg_store.', 'vmq_webhooks.',
  'vmq_bcrypt.', 'vmq_diversity.mysql.', 'vmq_diversity.postgres.', 'vmq_diversity.mongodb.', 'vmq_diversity.memcache.',
  'vmq_diversity.script_dir', 'vmq_diversity.nr_lua_states', 'log.crash', 'log.sasl', 'log.console.rotation', 'log.error.rotation',
  'log.error.format', 'log.template', 'log.syslog.format', 'log.syslog.remote', 'http_module', 'accept_eula', 'outgoing_clustering_buffer_size',
  'max_drain_time', 'max_msgs_per_drain_step', 'min_apikey_length', 'max_apikey_expiry_days', 'platform_', 'systree_', 'graphite_'
]
