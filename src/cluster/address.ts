// How operators name cluster members: `name@host`, `name@host:port` or
// `host:port` (VerneMQ names nodes `VerneMQ@<host>`; the gRPC port is that of
// the member's clustering listener, 44053 unless said otherwise).
export const DEFAULT_CLUSTER_PORT = 44053

export interface NodeRef {
  /** node name when given (name@host) */
  name?: string
  /** host:port of its clustering listener */
  address: string
}

import { InvalidRequest } from '../errors.js'

/** A malformed node name: the caller's mistake (exit 1 in the CLI). */
export class AddressError extends InvalidRequest {}

export function parseNodeRef (spec: string): NodeRef {
  const text = spec.trim()
  const m = /^(?:([^@\s]+)@)?([A-Za-z0-9_.-]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?$/.exec(text)
  if (m === null || (m[3] !== undefined && Number(m[3]) > 65535)) {
    throw new AddressError(`invalid node "${spec}": expected name@host, name@host:port or host:port`)
  }
  const [, prefix, host, port] = m
  const address = `${host}:${port ?? DEFAULT_CLUSTER_PORT}`
  if (prefix !== undefined) return { name: `${prefix}@${host}`, address }
  // A bare host is how DOCKER_VERNEMQ_DISCOVERY_NODE names a node: VerneMQ@<host>.
  return port === undefined ? { name: `VerneMQ@${host}`, address } : { address }
}
