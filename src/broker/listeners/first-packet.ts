// The CONNECT of a new connection, read before the connection is handed to an
// aedes instance (an auth plugin may move the client to another mountpoint).
// Every byte read is put back into the stream, so whoever reads it next sees
// the connection from its first byte.
import type { Duplex } from 'node:stream'
import mqttPacket, { type IConnectPacket } from 'mqtt-packet'

/** MQTT control packet type CONNECT, in the high nibble of the first byte */
const CONNECT_TYPE = 1
/** the Remaining Length takes at most 4 bytes */
const MAX_LENGTH_BYTES = 4

/**
 * closed: the stream closed or failed first. Otherwise `connect` is the
 * CONNECT when the first packet is a well-formed one of at most `maxBytes`
 * (undefined for anything else: the usual handling refuses it).
 */
export type FirstPacket = { closed: true } | { closed: false, connect: IConnectPacket | undefined }

/** Size of the first packet once its fixed header is complete; 0: not yet; -1: not a CONNECT or malformed. */
function firstPacketSize (bytes: Buffer): number {
  if (bytes.length === 0) return 0
  if (bytes[0] >> 4 !== CONNECT_TYPE) return -1
  let length = 0
  for (let i = 1; i <= MAX_LENGTH_BYTES; i++) {
    if (i >= bytes.length) return 0
    length += (bytes[i] & 0x7f) * 128 ** (i - 1)
    if ((bytes[i] & 0x80) === 0) return 1 + i + length
  }
  return -1
}

function parseConnect (bytes: Buffer): IConnectPacket | undefined {
  const parser = mqttPacket.parser()
  let connect: IConnectPacket | undefined
  parser.on('packet', packet => { if (packet.cmd === 'connect') connect = packet })
  parser.on('error', () => { connect = undefined })
  parser.parse(bytes)
  return connect
}

/**
 * Reads until the first packet is complete (or shown not to be a CONNECT
 * worth waiting for), then leaves the stream paused with what was read put
 * back. The caller bounds the wait (mqtt_connect_timeout closes the stream).
 */
export async function readFirstPacket (stream: Duplex, maxBytes: number): Promise<FirstPacket> {
  if (stream.destroyed) return { closed: true }
  return await new Promise(resolve => {
    const chunks: Buffer[] = []
    let read = 0
    const finish = (result: FirstPacket): void => {
      stream.removeListener('data', onData)
      stream.removeListener('close', onClose)
      stream.removeListener('end', onClose)
      resolve(result)
    }
    const onClose = (): void => { finish({ closed: true }) }
    const onData = (chunk: Buffer | string): void => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      chunks.push(data)
      read += data.length
      const bytes = chunks.length === 1 ? data : Buffer.concat(chunks)
      const size = firstPacketSize(bytes)
      const wanted = size > 0 && size <= maxBytes
      if ((size === 0 && read < maxBytes) || (wanted && read < size)) return
      stream.pause()
      stream.unshift(bytes)
      finish({ closed: false, connect: wanted ? parseConnect(bytes.subarray(0, size)) : undefined })
    }
    stream.on('data', onData)
    // a socket paused with bytes put back after its PROXY header flows again
    stream.resume()
    stream.once('close', onClose)
    stream.once('end', onClose)
  })
}
