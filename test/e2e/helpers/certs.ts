// Throwaway certificates for TLS tests, made with the openssl CLI in a temp
// directory (never committed): two CAs, server and client certificates.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Pki {
  dir: string
  ca: string
  server: { cert: string, key: string }
  caKey: string
  /** CN=alice, signed by ca */
  client: { cert: string, key: string }
  /** CN=bob, signed by ca */
  bob: { cert: string, key: string }
  /** another server certificate (CN=localhost), for rotation */
  server2: { cert: string, key: string }
  /** a second CA and a client it signed (CN=mallory) */
  otherCa: string
  otherClient: { cert: string, key: string }
  /** a CA signed by ca and a client it signed (CN=carol): chain depth 1 */
  intermediate: string
  deepClient: { cert: string, key: string }
}

function openssl (dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20000 })
}

const EXT_CA = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
const EXT_SERVER = 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
const EXT_CLIENT = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n'
/** a cluster member: serves its vmqs listener and presents the same certificate to the other members */
const EXT_MEMBER = 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n'
const EXTENSIONS = { ca: EXT_CA, server: EXT_SERVER, client: EXT_CLIENT, member: EXT_MEMBER }

/** A new EC key and a certificate for `cn`, signed by `issuer` (self-signed when absent). */
export function makeCert (dir: string, name: string, cn: string, kind: 'ca' | 'server' | 'client' | 'member', issuer?: { cert: string, key: string }): { cert: string, key: string } {
  const key = join(dir, `${name}.key`)
  const cert = join(dir, `${name}.pem`)
  const ext = join(dir, `${name}.ext`)
  writeFileSync(ext, EXTENSIONS[kind])
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key])
  if (issuer === undefined) {
    openssl(dir, ['req', '-new', '-x509', '-key', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-extensions', 'v3', '-config', writeReqConfig(dir, name, ext)])
  } else {
    const csr = join(dir, `${name}.csr`)
    openssl(dir, ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${cn}`])
    openssl(dir, ['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext])
  }
  return { cert, key }
}

function writeReqConfig (dir: string, name: string, ext: string): string {
  const path = join(dir, `${name}.cnf`)
  writeFileSync(path, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${readFileSync(ext, 'utf8')}`)
  return path
}

export function makePki (dir: string): Pki {
  const ca = makeCert(dir, 'ca', 'Test CA', 'ca')
  const other = makeCert(dir, 'other-ca', 'Other CA', 'ca')
  const intermediate = makeCert(dir, 'intermediate', 'Test Intermediate', 'ca', ca)
  const deep = makeCert(dir, 'carol', 'carol', 'client', intermediate)
  // the client presents its certificate together with the intermediate that signed it
  const deepChain = join(dir, 'carol-chain.pem')
  writeFileSync(deepChain, readFileSync(deep.cert, 'utf8') + readFileSync(intermediate.cert, 'utf8'))
  return {
    dir,
    ca: ca.cert,
    caKey: ca.key,
    server: makeCert(dir, 'server', 'localhost', 'server', ca),
    server2: makeCert(dir, 'server2', 'localhost', 'server', ca),
    client: makeCert(dir, 'alice', 'alice', 'client', ca),
    bob: makeCert(dir, 'bob', 'bob', 'client', ca),
    otherCa: other.cert,
    otherClient: makeCert(dir, 'mallory', 'mallory', 'client', other),
    intermediate: intermediate.cert,
    deepClient: { cert: deepChain, key: deep.key }
  }
}

/** Encrypts a key with a passphrase (PKCS#8, AES-256). */
export function encryptKey (dir: string, key: string, passphrase: string): string {
  const out = join(dir, 'encrypted.key')
  openssl(dir, ['pkcs8', '-topk8', '-in', key, '-out', out, '-v2', 'aes-256-cbc', '-passout', `pass:${passphrase}`])
  return out
}

/** A CRL of the test CA that revokes `cert`; returns the CRL file. */
export function revoke (pki: Pki, cert: string): string {
  const dir = pki.dir
  writeFileSync(join(dir, 'index.txt'), '')
  writeFileSync(join(dir, 'crlnumber'), '01\n')
  const config = join(dir, 'ca-db.cnf')
  writeFileSync(config, [
    '[ca]', 'default_ca=test', '[test]', `database=${join(dir, 'index.txt')}`, `crlnumber=${join(dir, 'crlnumber')}`,
    `certificate=${pki.ca}`, `private_key=${pki.caKey}`, 'default_md=sha256', 'default_crl_days=2', ''
  ].join('\n'))
  const crl = join(dir, 'crl.pem')
  openssl(dir, ['ca', '-config', config, '-revoke', cert])
  openssl(dir, ['ca', '-config', config, '-gencrl', '-out', crl])
  return crl
}
