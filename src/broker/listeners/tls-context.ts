// TLS settings of one ssl/wss listener: read and check the PEM files (naming the
// listener key and the file in every error), map VerneMQ's options onto Node's,
// notice when the files change (certificate rotation without a restart), and
// decide about a client certificate after the handshake.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { createSecureContext, type DetailedPeerCertificate, type SecureContextOptions, type Server, type TLSSocket, type TlsOptions } from 'node:tls'
import type { ListenerConfig } from '../../config/load.js'
import type { Logger } from '../log.js'
import { listenerKey, optionKey } from './types.js'
import { InvalidRequest } from '../../errors.js'
import { intermediateCount } from '../cert-chain.js'

export class TlsConfigError extends InvalidRequest {}

/** How often (at most) new connections trigger a look at the files' modification times. */
export const FILE_CHECK_INTERVAL_MS = 1000

const FILE_OPTIONS = ['certfile', 'keyfile', 'cafile', 'crlfile'] as const
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g
const TLS_VERSIONS: Record<string, 'TLSv1.2' | 'TLSv1.3'> = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' }

/** What the listener decided about a client after the TLS handshake. */
export interface ClientVerdict {
  refused?: string
  commonName?: string
}

export class TlsCredentials {
  private loaded: string
  private rejected: string | undefined
  private checkedAt = 0

  constructor (private readonly config: ListenerConfig) {
    this.loaded = this.fileSignature()
  }

  private option (name: string): string {
    const value = this.config.options.get(name)
    return value === null || value === undefined ? '' : String(value)
  }

  private flag (name: string): boolean { return this.config.options.get(name) === true }

  get requireCertificate (): boolean { return this.flag('require_certificate') }
  get useIdentityAsUsername (): boolean { return this.flag('use_identity_as_username') }
  /** the file options as configured, for `listener show --tls` */
  file (name: typeof FILE_OPTIONS[number]): string { return this.option(name) }

  /** Options for tls.createServer / https.createServer. Throws TlsConfigError. */
  serverOptions (): TlsOptions {
    const timeout = this.config.options.get('tls_handshake_timeout')
    return {
      ...this.secureContextOptions(),
      // A client certificate is asked for when it is required or used as identity;
      // only require_certificate makes its absence fatal (VerneMQ's fail_if_no_peer_cert).
      requestCert: this.requireCertificate || this.useIdentityAsUsername,
      rejectUnauthorized: this.requireCertificate,
      handshakeTimeout: typeof timeout === 'number' ? timeout : undefined
    }
  }

  /** Reads and checks every file and option; throws TlsConfigError naming the key. */
  secureContextOptions (): SecureContextOptions {
    const certPath = this.required('certfile')
    const keyPath = this.required('keyfile')
    if (this.requireCertificate && this.option('cafile') === '') {
      throw new TlsConfigError(`${optionKey(this.config, 'cafile')} is not set: require_certificate = on needs the CA that signs client certificates`)
    }
    const cert = this.read('certfile')
    const x509 = this.parseCertificate(cert, certPath)
    const key = this.read('keyfile')
    const passphrase = this.option('keypasswd') === '' ? undefined : this.option('keypasswd')
    if (!x509.checkPrivateKey(this.parseKey(key, passphrase, keyPath))) {
      throw new TlsConfigError(`${optionKey(this.config, 'keyfile')} = ${keyPath}: the key does not match ${optionKey(this.config, 'certfile')} = ${certPath}`)
    }
    const options: SecureContextOptions = { cert, key, passphrase, minVersion: TLS_VERSIONS[this.option('tls_version')] ?? 'TLSv1.2' }
    if (this.option('cafile') !== '') options.ca = this.parseCa(this.read('cafile'))
    if (this.option('crlfile') !== '') options.crl = this.checked('crlfile', { crl: this.read('crlfile') }, 'not a PEM certificate revocation list').crl
    if (this.option('ciphers') !== '') options.ciphers = this.checked('ciphers', { ciphers: this.option('ciphers') }, 'no cipher matches').ciphers
    if (this.option('eccs') !== '') options.ecdhCurve = this.checked('eccs', { ecdhCurve: this.option('eccs').split(/[\s,:]+/).filter(c => c !== '').join(':') }, 'unknown elliptic curve').ecdhCurve
    try {
      createSecureContext(options)
    } catch (err) {
      throw new TlsConfigError(`${listenerKey(this.config)}: invalid TLS settings: ${(err as Error).message}`)
    }
    return options
  }

  private required (name: string): string {
    const path = this.option(name)
    if (path === '') throw new TlsConfigError(`${optionKey(this.config, name)} is not set: a TLS listener needs certfile and keyfile`)
    return path
  }

  private read (name: string): string {
    const path = this.option(name)
    try {
      return readFileSync(path, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message
      throw new TlsConfigError(`${optionKey(this.config, name)} = ${path}: ${reason}`)
    }
  }

  private parseCertificate (pem: string, path: string): X509Certificate {
    try {
      return new X509Certificate(pem)
    } catch {
      throw new TlsConfigError(`${optionKey(this.config, 'certfile')} = ${path}: not a PEM certificate`)
    }
  }

  private parseKey (pem: string, passphrase: string | undefined, path: string): KeyObject {
    if (passphrase === undefined && /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
      throw new TlsConfigError(`${optionKey(this.config, 'keyfile')} = ${path}: the key is encrypted and keypasswd is not set`)
    }
    try {
      return createPrivateKey({ key: pem, format: 'pem', passphrase })
    } catch (err) {
      const reason = /bad decrypt/i.test((err as Error).message) ? 'cannot decrypt the key: wrong keypasswd' : 'not a PEM private key'
      throw new TlsConfigError(`${optionKey(this.config, 'keyfile')} = ${path}: ${reason}`)
    }
  }

  private parseCa (pem: string): string[] {
    const blocks = pem.match(PEM_CERTIFICATE) ?? []
    if (blocks.length === 0) throw new TlsConfigError(`${optionKey(this.config, 'cafile')} = ${this.option('cafile')}: no PEM certificate in the file`)
    for (const block of blocks) {
      try {
        void new X509Certificate(block)
      } catch {
        throw new TlsConfigError(`${optionKey(this.config, 'cafile')} = ${this.option('cafile')}: contains an invalid certificate`)
      }
    }
    return blocks
  }

  /** Lets OpenSSL judge one option on its own, so an error names that option. */
  private checked<T extends SecureContextOptions> (name: string, options: T, reason: string): T {
    try {
      createSecureContext(options)
      return options
    } catch {
      throw new TlsConfigError(`${optionKey(this.config, name)} = ${this.option(name)}: ${reason}`)
    }
  }

  /**
   * Installs new certificates on `server` when the files changed (checked at
   * most once per FILE_CHECK_INTERVAL_MS) or when `force` is set. Broken new
   * files are reported once and the current certificates stay in use.
   */
  refresh (server: Server, log: Logger, force = false): void {
    const now = Date.now()
    if (!force && now - this.checkedAt < FILE_CHECK_INTERVAL_MS) return
    this.checkedAt = now
    const signature = this.fileSignature()
    if (!force && (signature === this.loaded || signature === this.rejected)) return
    try {
      server.setSecureContext(this.secureContextOptions())
      this.loaded = signature
      this.rejected = undefined
      log.info({ listener: listenerKey(this.config) }, 'TLS certificate files loaded')
    } catch (err) {
      this.rejected = signature
      log.warn({ listener: listenerKey(this.config), err: (err as Error).message }, 'TLS certificate files changed but cannot be used; keeping the previous ones')
    }
  }

  private fileSignature (): string {
    return FILE_OPTIONS.map(name => {
      const path = this.option(name)
      if (path === '') return '-'
      try {
        const stat = statSync(path)
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}`
      } catch {
        return 'missing'
      }
    }).join('|')
  }

  /** Checks the client certificate of a finished handshake (depth, and trust when not already enforced). */
  verifyClient (socket: TLSSocket): ClientVerdict {
    if (!this.requireCertificate && !this.useIdentityAsUsername) return {}
    const cert = socket.getPeerCertificate(true)
    if (cert === null || cert === undefined || Object.keys(cert).length === 0) {
      return this.requireCertificate ? { refused: 'no client certificate' } : {}
    }
    if (!socket.authorized) return { refused: `client certificate not trusted: ${String(socket.authorizationError)}` }
    const depth = Number(this.config.options.get('depth') ?? 1)
    const intermediates = intermediateCount(cert)
    if (intermediates > depth) {
      return { refused: `client certificate chain has ${intermediates} intermediate CA(s), more than ${optionKey(this.config, 'depth')} = ${depth}` }
    }
    return { commonName: commonName(cert) }
  }
}

function commonName (cert: DetailedPeerCertificate): string | undefined {
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.CN
  return Array.isArray(cn) ? cn[0] : cn
}
