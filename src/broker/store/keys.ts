// Key layout of the LevelDB store. Every key is a utf8 string that starts with
// one letter naming what it holds:
//
//   m<name>                            store metadata (format version, write probe)
//   r<topic>                           retained message
//   w<clientId>                        last will
//   p<clientId>                        a persistent session exists (it may have no subscription)
//   s<len>:<clientId>\0<topic>         persistent subscription
//   o<len>:<clientId>\0<seq, 16 hex>   queued outgoing message (order = seq), one client's own copy
//   q<seq, 16 hex>                     queued message shared by the queues of the clients it names
//                                      (an accepted message's is written before its PUBACK, see prequeued.ts)
//   j<seq, 16 hex>                     accepted message not yet queued: retained, with MQTT 5 properties,
//                                      or routed to cluster members (see journal.ts)
//   a<clientId>                        the client's copies of q messages below this seq are gone
//   x<len>:<clientId>\0<seq, 16 hex>   the client's copy of q message seq is gone (removed out of order)
//   i<len>:<clientId>\0<packet id>     incoming QoS 2 PUBLISH awaiting PUBREL
//
// `<len>:` (the client id's length) makes the client part unambiguous: the
// keys of one client are exactly the keys in [clientPrefix + '\0', + '\x01').

export const FORMAT_KEY = 'mformat'
/**
 * 2: shared queued messages (q, a, x keys); 3: a queued packet's origin may be
 * in its header only (codec.encodeQueuedFrom), which format 2 readers would
 * lose. Older stores are read as they are and marked 3 when opened.
 */
export const FORMAT_VERSION = '3'
export const OLDER_FORMATS = ['1', '2']
/** written and deleted to check that the store takes writes again (write-recovery.ts) */
export const PROBE_KEY = 'mwrite-probe'

const SEP = '\x00'
const AFTER_SEP = '\x01'

export type ClientKind = 's' | 'o' | 'i' | 'x'

/** A [gte, lt) key range for an iterator. */
export interface KeyRange { gte: string, lt: string }

function clientPrefix (kind: ClientKind, clientId: string): string {
  return `${kind}${clientId.length}:${clientId}`
}

export function clientRange (kind: ClientKind, clientId: string): KeyRange {
  const prefix = clientPrefix(kind, clientId)
  return { gte: prefix + SEP, lt: prefix + AFTER_SEP }
}

/** All keys of one kind letter. */
export function kindRange (kind: string): KeyRange {
  return { gte: kind, lt: String.fromCharCode(kind.charCodeAt(0) + 1) }
}

export function subscriptionKey (clientId: string, topic: string): string {
  return clientPrefix('s', clientId) + SEP + topic
}

export function outgoingKey (clientId: string, seq: number): string {
  return clientPrefix('o', clientId) + SEP + seq.toString(16).padStart(16, '0')
}

export function messageKey (seq: number): string {
  return 'q' + seq.toString(16).padStart(16, '0')
}

export function watermarkKey (clientId: string): string {
  return 'a' + clientId
}

export function removedKey (clientId: string, seq: number): string {
  return clientPrefix('x', clientId) + SEP + seq.toString(16).padStart(16, '0')
}

export function incomingKey (clientId: string, messageId: number): string {
  return clientPrefix('i', clientId) + SEP + String(messageId)
}

/** An accepted QoS 1/2 message that has no prequeued record (see journal.ts), until it is queued or released. */
export function journalKey (seq: number): string {
  return 'j' + seq.toString(16).padStart(16, '0')
}

export function retainedKey (topic: string): string {
  return 'r' + topic
}

export function willKey (clientId: string): string {
  return 'w' + clientId
}

export function sessionKey (clientId: string): string {
  return 'p' + clientId
}

/** Splits a client key back into its client id and the part after the separator. */
export function parseClientKey (key: string): { clientId: string, rest: string } {
  const colon = key.indexOf(':')
  const length = Number(key.slice(1, colon))
  const start = colon + 1
  const clientId = key.slice(start, start + length)
  if (!Number.isInteger(length) || key[start + length] !== SEP) {
    throw new Error(`malformed store key ${JSON.stringify(key)}`)
  }
  return { clientId, rest: key.slice(start + length + 1) }
}

export function seqOfOutgoingKey (rest: string): number {
  return parseInt(rest, 16)
}
