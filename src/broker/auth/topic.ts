// MQTT topic names and filters as level arrays, and the matching rule VerneMQ's
// ACL uses (vmq_topic:match), which is NOT the MQTT subscription-matching rule:
// it decides whether an input topic or filter is covered by an ACL filter.

/** MQTT caps a topic at 65535 bytes of UTF-8. */
export const MAX_TOPIC_BYTES = 65535

export type TopicCheck =
  | { ok: true, levels: string[] }
  | { ok: false, reason: string }

/** `a/b//c` -> ['a', 'b', '', 'c']; empty levels are real levels in MQTT. */
export function splitLevels (topic: string): string[] {
  return topic.split('/')
}

/**
 * A subscription filter: `+` only as a whole level, `#` only as the whole last
 * level, no NUL, well-formed UTF-16 (so it encodes to UTF-8), at most maxDepth
 * levels, and `$share/<group>/<filter>` needs a filter.
 */
export function validateFilter (filter: string, maxDepth = Infinity): TopicCheck {
  const common = commonProblem(filter)
  if (common !== undefined) return { ok: false, reason: common }
  const levels = splitLevels(filter)
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (level === '+') continue
    if (level === '#') {
      if (i !== levels.length - 1) return { ok: false, reason: `'#' must be the last level in '${filter}'` }
      continue
    }
    if (level.includes('+')) return { ok: false, reason: `'+' must be a whole level in '${filter}'` }
    if (level.includes('#')) return { ok: false, reason: `'#' must be a whole level in '${filter}'` }
  }
  if (levels[0] === '$share' && levels.length < 3) {
    return { ok: false, reason: `shared subscription '${filter}' needs $share/<group>/<filter>` }
  }
  return depthChecked(filter, levels, maxDepth)
}

/** A topic name as published: like a filter, but no wildcards at all. */
export function validateTopicName (topic: string, maxDepth = Infinity): TopicCheck {
  const common = commonProblem(topic)
  if (common !== undefined) return { ok: false, reason: common }
  if (topic.includes('+') || topic.includes('#')) {
    return { ok: false, reason: `wildcards are not allowed in the topic name '${topic}'` }
  }
  return depthChecked(topic, splitLevels(topic), maxDepth)
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function commonProblem (topic: string): string | undefined {
  if (topic.length === 0) return 'empty topic'
  if (topic.includes('\u0000')) return 'topic contains a NUL character'
  if (LONE_SURROGATE.test(topic)) return 'topic is not valid UTF-8'
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return `topic longer than ${MAX_TOPIC_BYTES} bytes`
  return undefined
}

function depthChecked (topic: string, levels: string[], maxDepth: number): TopicCheck {
  if (levels.length > maxDepth) {
    return { ok: false, reason: `'${topic}' has ${levels.length} levels, more than the maximum of ${maxDepth}` }
  }
  return { ok: true, levels }
}

/**
 * Is `input` (a topic name, or a filter a client subscribes to) covered by the
 * ACL filter `acl`? Level by level: equal levels match (so a literal `+` or `#`
 * input level matches the same ACL level); an ACL `+` matches any one input
 * level, even an input `+` or `#`; an ACL `#` matches the rest, including no
 * level at all. `$` topics are not special. Hence ACL `a/+` covers the filter
 * `a/#`, while ACL `a/+/c` does not.
 */
export function aclMatch (input: readonly string[], acl: readonly string[]): boolean {
  const n = input.length
  const m = acl.length
  let i = 0
  for (; i < m; i++) {
    const a = acl[i]
    if (a === '#' && i === m - 1) return true
    if (i >= n) return false
    if (a !== '+' && a !== input[i]) return false
  }
  return i === n
}

/**
 * aclMatch(splitLevels(topic), acl) without splitting, so the check on every
 * PUBLISH allocates nothing. With `values`, the ACL levels `%u` `%c` `%m` are
 * read as substitute() would replace them (a rule substitute() refuses never
 * matches).
 */
export function aclMatchTopic (topic: string, acl: readonly string[], values?: Substitutions): boolean {
  const n = topic.length
  const m = acl.length
  let pos = 0
  for (let i = 0; i < m; i++) {
    let a: string | undefined = acl[i]
    if (a === '#' && i === m - 1) return true
    if (pos > n) return false
    let end = topic.indexOf('/', pos)
    if (end === -1) end = n
    if (a === '+') {
      pos = end + 1
      continue
    }
    if (values !== undefined && a.length === 2 && a.charCodeAt(0) === 37 /* % */) {
      a = substitutePlaceholder(a, values)
      if (a === undefined) return false
    }
    if (end - pos !== a.length || !topic.startsWith(a, pos)) return false
    pos = end + 1
  }
  return pos > n
}

/**
 * What one ACL level becomes for this client: `%u` `%c` `%m` their value, any
 * other level itself; undefined when the rule cannot apply (see substitute).
 */
export function substitutePlaceholder (level: string, values: Substitutions): string | undefined {
  let value: string | undefined
  if (level === '%u') value = values.u
  else if (level === '%c') value = values.c
  else if (level === '%m') value = values.m
  else return level
  return value !== undefined && isLiteralLevel(value) ? value : undefined
}

export interface Substitutions {
  /** username; undefined for an anonymous client */
  u: string | undefined
  /** client id */
  c: string
  /** mountpoint, '' when none */
  m: string
}

/** Is this ACL level `%u`, `%c` or `%m`? */
export function isPlaceholder (level: string): boolean {
  return level === '%u' || level === '%c' || level === '%m'
}

/** Does this rule use `%u`, `%c` or `%m` as a whole level? */
export function hasPlaceholder (levels: readonly string[]): boolean {
  return levels.some(isPlaceholder)
}

/**
 * Replaces the levels that are exactly `%u`, `%c` or `%m` (`a/x%u` stays as is).
 * Returns undefined when the rule cannot apply to this client: `%u` for an
 * anonymous client, or a value that would act as a wildcard or span levels
 * (`+`, `#`, or containing `/`). VerneMQ would turn a client id `#` into an ACL
 * wildcard; we refuse instead, so a client cannot widen its own grant.
 */
export function substitute (levels: readonly string[], values: Substitutions): string[] | undefined {
  const out = new Array<string>(levels.length)
  for (let i = 0; i < levels.length; i++) {
    const value = substitutePlaceholder(levels[i], values)
    if (value === undefined) return undefined
    out[i] = value
  }
  return out
}

function isLiteralLevel (value: string): boolean {
  return value !== '+' && value !== '#' && !value.includes('/')
}
