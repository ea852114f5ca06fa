// MQTT topic filters: well-formedness, `$share/<group>/<filter>`, and matching
// a topic name. The one place these rules live; the indexes that find
// subscriptions fast (store/topic-index.ts, cluster/interest.ts) are checked
// against filterMatches in their unit tests.

export const SHARE_PREFIX = '$share/'

/**
 * Whether a SUBSCRIBE/UNSUBSCRIBE topic filter is well formed (MQTT 5 §4.7):
 * at least one character (MQTT-4.7.3-1), '#' only as the whole last level
 * (MQTT-4.7.1-1), '+' only as a whole level (MQTT-4.7.1-2). A `$share/`
 * filter without group or filter is well formed here (a plain filter for
 * MQTT 3.1.1); the SUBSCRIBE policy refuses it as a shared subscription.
 */
export function isValidTopicFilter (filter: string): boolean {
  if (filter.length === 0) return false
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false
    if (level.includes('+') && level !== '+') return false
  }
  return true
}

export function isShared (filter: string): boolean {
  return filter.startsWith(SHARE_PREFIX)
}

export interface ShareParts { group: string, filter: string }

/**
 * `$share/<group>/<filter>` split, or undefined when it is not a valid shared
 * filter: the group is not empty and has no wildcard (MQTT 5 §4.8.2), the
 * filter is not empty.
 */
export function parseShare (filter: string): ShareParts | undefined {
  if (!isShared(filter)) return undefined
  const slash = filter.indexOf('/', SHARE_PREFIX.length)
  if (slash <= SHARE_PREFIX.length) return undefined
  const group = filter.slice(SHARE_PREFIX.length, slash)
  const rest = filter.slice(slash + 1)
  if (rest === '' || group.includes('+') || group.includes('#')) return undefined
  return { group, filter: rest }
}

/**
 * Whether a topic name matches a plain filter: `+` matches one level (an empty
 * one too), a trailing `#` matches the parent level and everything below, and a
 * filter starting with a wildcard never matches a topic starting with `$`
 * (MQTT-4.7.2-1). A malformed filter (`#` not last) matches nothing.
 */
export function filterMatches (filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 36 /* $ */ && (filter.charCodeAt(0) === 43 /* + */ || filter.charCodeAt(0) === 35 /* # */)) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

/** Like filterMatches, for a filter that may be shared: its <filter> part matches. */
export function subscriptionMatches (filter: string, topic: string): boolean {
  if (!isShared(filter)) return filterMatches(filter, topic)
  const share = parseShare(filter)
  return share !== undefined && filterMatches(share.filter, topic)
}
