// Arguments shared by the `listener` commands: VerneMQ's `address=<ip> port=<p>`
// key/value arguments, and the listener options `listener start` accepts as flags.
import { isIP } from 'node:net'
import { Flags } from '@oclif/core'
import { CliError } from './errors.js'

export interface ListenerAddressArgs { address: string, port: number }

/** Reads `address=<ip> port=<port>` (any order) from the command's arguments. */
export function listenerAddress (argv: readonly string[], usage: string): ListenerAddressArgs {
  const values: Record<string, string> = {}
  for (const arg of argv) {
    const eq = arg.indexOf('=')
    const key = eq > 0 ? arg.slice(0, eq) : ''
    if (key !== 'address' && key !== 'port') throw new CliError(`Invalid argument "${arg}": usage: ${usage}`)
    values[key] = arg.slice(eq + 1)
  }
  if (values.address === undefined || values.port === undefined) throw new CliError(`Missing address= or port=: usage: ${usage}`)
  if (isIP(values.address.replace(/^\[(.*)\]$/, '$1')) === 0) throw new CliError(`Invalid argument address=${values.address}: expected an IP address`)
  const port = Number(values.port)
  if (!/^\d+$/.test(values.port) || port > 65535) throw new CliError(`Invalid argument port=${values.port}: expected a port from 0 to 65535`)
  return { address: values.address, port }
}

const text = (description: string) => Flags.string({ description })
const onOff = (description: string) => Flags.boolean({ description })

/** Listener options as `listener start` flags; each maps to the listener option of the same name. */
export const listenerOptionFlags = {
  mountpoint: Flags.string({ char: 'm', description: 'mountpoint of the listener' }),
  max_connections: text('connections accepted at once (a number or infinity)'),
  nr_of_acceptors: text('accepted for compatibility; no effect'),
  allowed_protocol_versions: text('MQTT protocol levels accepted, e.g. 3,4,5'),
  allow_anonymous_override: onOff('clients of this listener connect without authentication'),
  proxy_protocol: onOff('expect a PROXY protocol v1/v2 header before MQTT'),
  proxy_protocol_use_cn_as_username: Flags.string({ description: 'use the CN of a PROXY v2 TLS header as username', options: ['true', 'false', 'on', 'off'] }),
  cafile: text('CA certificates (PEM) that sign client certificates'),
  certfile: text('server certificate (PEM)'),
  keyfile: text('server private key (PEM)'),
  keypasswd: text('passphrase of keyfile'),
  ciphers: text('OpenSSL cipher list, colon separated'),
  eccs: text('elliptic curves, comma separated'),
  crlfile: text('certificate revocation list (PEM)'),
  tls_version: text('lowest TLS version accepted: tlsv1.2 or tlsv1.3'),
  depth: text('most intermediate CAs in a client certificate chain'),
  tls_handshake_timeout: text('time a TLS handshake may take (ms)'),
  require_certificate: onOff('refuse clients without a certificate signed by cafile'),
  use_identity_as_username: onOff('the client certificate CN becomes the username')
}

/** The listener options among parsed flags, as strings the node parses like vernemq.conf values. */
export function listenerOptions (flags: Record<string, unknown>): Record<string, string> {
  const options: Record<string, string> = {}
  for (const name of Object.keys(listenerOptionFlags)) {
    const value = flags[name]
    if (value === undefined || value === false) continue
    options[name] = value === true ? 'on' : String(value)
  }
  return options
}
