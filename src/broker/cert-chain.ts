// How many CA certificates stand between a peer certificate and the trusted
// root: VerneMQ's `depth` (Erlang ssl's), for client certificates on TLS
// listeners and for the certificates of https:// webhook endpoints.
import type { DetailedPeerCertificate } from 'node:tls'

export function intermediateCount (peer: DetailedPeerCertificate): number {
  const chain: DetailedPeerCertificate[] = [peer]
  let cert = peer
  // Node ends the chain with a self-signed root whose issuerCertificate is itself.
  for (let i = 0; i < 100 && cert.issuerCertificate !== undefined && cert.issuerCertificate !== cert; i++) {
    if (cert.issuerCertificate.fingerprint256 === cert.fingerprint256) break
    cert = cert.issuerCertificate
    chain.push(cert)
  }
  const last = chain[chain.length - 1]
  const endsAtRoot = chain.length > 1 && last.subject !== undefined && sameName(last.subject, last.issuer)
  return Math.max(0, chain.length - (endsAtRoot ? 2 : 1))
}

function sameName (a: object, b: object | undefined): boolean {
  return b !== undefined && JSON.stringify(a) === JSON.stringify(b)
}
