// PROXY protocol (HAProxy's v1 text and v2 binary headers): read the header a
// load balancer writes before the client's bytes, and learn the client's real
// address (and, from a v2 TLS TLV, its certificate CN). proxy-protocol-js decodes
// the header; framing it on the stream and the TLVs are done here.
import { isIP, type Socket } from 'node:net'
import { IPv4ProxyAddress, IPv6ProxyAddress, V1ProxyProtocol, V2ProxyProtocol } from 'proxy-protocol-js'

export interface ProxyHeader {
  /** the original client; undefined for v1 UNKNOWN and v2 LOCAL (health checks of the proxy itself) */
  source: { host: string, port: number } | undefined
  /** CN of a client certificate the proxy verified (v2 PP2_TYPE_SSL / PP2_SUBTYPE_SSL_CN) */
  commonName: string | undefined
}

export class ProxyHeaderError extends Error {}

const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'binary')
const V1_PREFIX = Buffer.from('PROXY ')
/** the longest v1 line the spec allows, CRLF included */
const V1_MAX_LENGTH = 107
const V2_FIXED_LENGTH = 16
const PP2_TYPE_SSL = 0x20
const PP2_SUBTYPE_SSL_CN = 0x22
const PP2_CLIENT_SSL = 0x01

/**
 * Reads one PROXY header from a fresh connection. Bytes after the header stay
 * in the socket (unshifted) for whoever reads it next. Rejects when the
 * header is missing, malformed or not complete within `timeoutMs`.
 */
export async function readProxyHeader (socket: Socket, timeoutMs: number): Promise<ProxyHeader> {
  return await new Promise<ProxyHeader>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0)
    const finish = (err: Error | undefined, header?: ProxyHeader, rest?: Buffer): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.pause()
      if (err !== undefined) {
        reject(err)
        return
      }
      if (rest !== undefined && rest.length > 0) socket.unshift(rest)
      resolve(header as ProxyHeader)
    }
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      try {
        const framed = frameHeader(buffered)
        if (framed !== undefined) finish(undefined, framed.header, buffered.subarray(framed.length))
      } catch (err) {
        finish(err as Error)
      }
    }
    const onClose = (): void => { finish(new ProxyHeaderError('connection closed before a complete PROXY header')) }
    const timer = setTimeout(() => { finish(new ProxyHeaderError(`no complete PROXY header within ${timeoutMs} ms`)) }, timeoutMs)
    socket.on('data', onData)
    socket.once('close', onClose)
  })
}

/** The header at the start of `data` and its length, or undefined while more bytes are needed. */
export function frameHeader (data: Buffer): { header: ProxyHeader, length: number } | undefined {
  if (startsWithPrefixOf(data, V2_SIGNATURE)) {
    if (data.length < V2_FIXED_LENGTH) return undefined
    const length = V2_FIXED_LENGTH + data.readUInt16BE(14)
    if (data.length < length) return undefined
    return { header: parseV2(data.subarray(0, length)), length }
  }
  if (startsWithPrefixOf(data, V1_PREFIX)) {
    const end = data.indexOf('\r\n')
    if (end < 0) {
      if (data.length >= V1_MAX_LENGTH) throw new ProxyHeaderError('PROXY v1 line longer than 107 bytes')
      return undefined
    }
    if (end + 2 > V1_MAX_LENGTH) throw new ProxyHeaderError('PROXY v1 line longer than 107 bytes')
    return { header: parseV1(data.subarray(0, end + 2).toString('latin1')), length: end + 2 }
  }
  throw new ProxyHeaderError('the connection does not start with a PROXY header')
}

/** True when `data` and `prefix` agree on their common length. */
function startsWithPrefixOf (data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length)
  return data.subarray(0, n).equals(prefix.subarray(0, n))
}

function parseV1 (line: string): ProxyHeader {
  if (line.startsWith('PROXY UNKNOWN')) return { source: undefined, commonName: undefined }
  let parsed: V1ProxyProtocol
  try {
    parsed = V1ProxyProtocol.parse(line)
  } catch {
    throw new ProxyHeaderError(`malformed PROXY v1 line "${line.trimEnd()}"`)
  }
  const host = parsed.source.ipAddress
  const port = parsed.source.port
  const family = String(parsed.inetProtocol) === 'TCP6' ? 6 : 4
  if (isIP(host) !== family || !isPort(port) || isIP(parsed.destination.ipAddress) !== family || !isPort(parsed.destination.port)) {
    throw new ProxyHeaderError(`malformed PROXY v1 line "${line.trimEnd()}"`)
  }
  return { source: { host, port }, commonName: undefined }
}

function parseV2 (header: Buffer): ProxyHeader {
  if ((header[12] & 0xf0) !== 0x20) throw new ProxyHeaderError('unsupported PROXY v2 version')
  let parsed: V2ProxyProtocol
  try {
    parsed = V2ProxyProtocol.parse(header)
  } catch (err) {
    throw new ProxyHeaderError(`malformed PROXY v2 header: ${(err as Error).message}`)
  }
  const local = (header[12] & 0x0f) === 0
  const address = parsed.proxyAddress
  let source: ProxyHeader['source']
  if (!local && address instanceof IPv4ProxyAddress) {
    source = { host: address.sourceAddress.address.join('.'), port: address.sourcePort }
  } else if (!local && address instanceof IPv6ProxyAddress) {
    source = { host: ipv6Text(address.sourceAddress.address), port: address.sourcePort }
  }
  return { source, commonName: sslCommonName(Buffer.from(parsed.data ?? [])) }
}

function ipv6Text (bytes: readonly number[]): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
  // The URL parser prints IPv6 addresses in their canonical compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}

/** The CN sub-TLV of the SSL TLV, only when the proxy says it verified the client certificate. */
function sslCommonName (tlvs: Buffer): string | undefined {
  const ssl = findTlv(tlvs, PP2_TYPE_SSL)
  if (ssl === undefined || ssl.length < 5) return undefined
  const client = ssl[0]
  const verify = ssl.readUInt32BE(1)
  if ((client & PP2_CLIENT_SSL) === 0 || verify !== 0) return undefined
  return findTlv(ssl.subarray(5), PP2_SUBTYPE_SSL_CN)?.toString('utf8')
}

function findTlv (data: Buffer, type: number): Buffer | undefined {
  let at = 0
  // each step consumes at least 3 bytes, so the loop is bounded by data.length
  while (at + 3 <= data.length) {
    const length = data.readUInt16BE(at + 1)
    const value = data.subarray(at + 3, at + 3 + length)
    if (value.length < length) throw new ProxyHeaderError('truncated PROXY v2 TLV')
    if (data[at] === type) return value
    at += 3 + length
  }
  return undefined
}

function isPort (n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535
}
