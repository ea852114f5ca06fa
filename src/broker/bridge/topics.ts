// How a bridge topic line maps topics: `out` subscribes locally to
// local_prefix + pattern and publishes remotely with the local prefix swapped
// for the remote one; `in` does the opposite. Prefixes are text (mosquitto's
// rule): `local/` + `a/b` is `local/a/b`.
import type { BridgeTopic } from '../../config/bridge.js'
import { filterMatches } from '../../mqtt/topic.js'

export function localFilter (line: BridgeTopic): string {
  return line.localPrefix + line.pattern
}

export function remoteFilter (line: BridgeTopic): string {
  return line.remotePrefix + line.pattern
}

function swap (topic: string, from: string, to: string): string {
  return to + (topic.startsWith(from) ? topic.slice(from.length) : topic)
}

/** The remote topic of a local message matched by an out (or both) line. */
export function toRemote (line: BridgeTopic, topic: string): string {
  return swap(topic, line.localPrefix, line.remotePrefix)
}

/** The local topic of a remote message, when an in (or both) line matches it. */
export function toLocal (line: BridgeTopic, topic: string): string | undefined {
  if (!filterMatches(remoteFilter(line), topic)) return undefined
  return swap(topic, line.remotePrefix, line.localPrefix)
}

export function goesOut (line: BridgeTopic): boolean { return line.direction !== 'in' }
export function comesIn (line: BridgeTopic): boolean { return line.direction !== 'out' }
