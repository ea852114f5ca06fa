// Bytes of the cluster's peer links (the Link stream of the Cluster service),
// counted where gRPC serializes and parses its messages: what this node's
// links send (cluster_bytes_sent) and what its server reads from the members'
// links (cluster_bytes_received). One node per process, so one count per process.
import type { PackageDefinition, MethodDefinition } from '@grpc/proto-loader'

export const linkTraffic = { sent: 0, received: 0 }

let serialize: ((message: object) => Buffer) | undefined

/** Makes the Link method of `definition` count its messages' bytes; call before loadPackageDefinition. */
export function countLinkTraffic (definition: PackageDefinition): void {
  const link = (definition['vmq.Cluster'] as Record<string, MethodDefinition<object, object>> | undefined)?.Link
  if (link === undefined) return
  const write = link.requestSerialize
  const read = link.requestDeserialize
  serialize = write
  link.requestSerialize = (message: object) => {
    const bytes = write(message)
    linkTraffic.sent += bytes.length
    return bytes
  }
  link.requestDeserialize = (bytes: Buffer) => {
    linkTraffic.received += bytes.length
    return read(bytes)
  }
}

/** The bytes `message` takes on a link (0 before the definition is loaded). */
export function linkMessageSize (message: object): number {
  return serialize?.(message).length ?? 0
}
