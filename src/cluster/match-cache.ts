// mqemitter finds the listeners of every message with Qlobber's match, which
// splits the topic and walks the trie again for each one, though most traffic
// repeats a few topics. Kept here per topic until the next subscribe or
// unsubscribe. Relies on mqemitter 7 matching through its `_matcher` (a
// Qlobber: add, remove, match), pinned in test/unit/cluster/match-cache.test.ts.
import type { MQEmitter } from 'mqemitter'

interface Matcher {
  add: (topic: string, value: unknown) => unknown
  remove: (topic: string, value?: unknown) => unknown
  match: (topic: string) => unknown[]
}

/** Topics kept at most: beyond, the table starts again (a node publishing to ever new topics gains nothing, loses little). */
export const MATCH_CACHE_TOPICS = 4096

/** Makes `emitter` keep the listeners each topic matched until its subscriptions change. */
export function cacheMatches (emitter: MQEmitter, limit = MATCH_CACHE_TOPICS): void {
  const matcher = (emitter as unknown as { _matcher: Matcher })._matcher
  const add = matcher.add.bind(matcher)
  const remove = matcher.remove.bind(matcher)
  const match = matcher.match.bind(matcher)
  const matches = new Map<string, unknown[]>()
  matcher.add = (topic, value) => {
    matches.clear()
    return add(topic, value)
  }
  matcher.remove = (topic, value) => {
    matches.clear()
    return remove(topic, value)
  }
  // the same array goes to every emit of the topic: mqemitter only reads it
  matcher.match = (topic) => {
    let found = matches.get(topic)
    if (found === undefined) {
      found = match(topic)
      if (matches.size >= limit) matches.clear()
      matches.set(topic, found)
    }
    return found
  }
}
