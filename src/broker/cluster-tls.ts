// The TLS of a vmqs cluster listener: what the node's gRPC server presents and
// checks, and what its own connections to other members trust and present
// (its certfile/keyfile double as client certificate for mutual TLS).
import { createPrivateKey } from 'node:crypto'
import type { ListenerConfig } from '../config/load.js'
import { findListenerOption } from '../config/schema.js'
import type { ClientTls, ServerTls } from '../rpc/tls.js'
import { TlsCredentials } from './listeners/tls-context.js'

export interface ClusterTls {
  server: ServerTls
  client: ClientTls
}

/** TLS options of ssl/wss listeners that gRPC's TLS server does not take. */
const NOT_APPLIED = ['tls_version', 'ciphers', 'eccs', 'crlfile', 'depth', 'use_identity_as_username', 'tls_handshake_timeout']

/** The options set on a vmqs listener that have no effect on it, for a warning at start. */
export function unappliedOptions (listener: ListenerConfig): string[] {
  if (listener.type !== 'vmqs') return []
  return NOT_APPLIED.filter(name => listener.options.get(name) !== findListenerOption(name)?.default)
}

/** Reads and checks the listener's files; undefined for a plain vmq listener. Throws TlsConfigError naming the key. */
export function clusterTls (listener: ListenerConfig): ClusterTls | undefined {
  if (listener.type !== 'vmqs') return undefined
  const credentials = new TlsCredentials(listener)
  const options = credentials.secureContextOptions()
  const cert = Buffer.from(String(options.cert))
  // gRPC takes no passphrase: hand it the decrypted key
  const key = Buffer.from(createPrivateKey({ key: String(options.key), passphrase: options.passphrase }).export({ format: 'pem', type: 'pkcs8' }))
  const ca = Array.isArray(options.ca) ? Buffer.from(options.ca.join('\n')) : undefined
  return {
    server: { ca, cert, key, requireCertificate: credentials.requireCertificate },
    client: { ca, cert, key }
  }
}
