// A set of ACL filters as a tree of levels, so a check costs one walk down the
// topic instead of one comparison per rule. Answers exactly what
// `rules.some(r => aclMatch(levels, r))` answers (see topic.ts): an ACL `+`
// consumes any one input level, an ACL `#` covers whatever is left.

import { type Substitutions, isPlaceholder, substitutePlaceholder } from './topic.js'

interface Node {
  /** literal levels; in a pattern index `%u` `%c` `%m` live in `placeholders` instead */
  children: Map<string, Node> | undefined
  placeholders: Map<string, Node> | undefined
  plus: Node | undefined
  /** a rule ends here with `#` */
  hash: boolean
  /** a rule ends here */
  end: boolean
}

function newNode (): Node {
  return { children: undefined, placeholders: undefined, plus: undefined, hash: false, end: false }
}

export class AclIndex {
  private readonly root = newNode()
  private count = 0

  /** `withPlaceholders`: whole levels `%u` `%c` `%m` are substituted at check time (pattern rules). */
  constructor (rules: readonly (readonly string[])[], private readonly withPlaceholders = false) {
    for (const rule of rules) this.add(rule)
  }

  get size (): number {
    return this.count
  }

  /** Does some rule cover `topic` (a topic name or a filter)? `values` is needed for a pattern index. */
  covers (topic: string, values?: Substitutions): boolean {
    if (this.count === 0) return false
    return walk(this.root, topic, 0, values)
  }

  private add (rule: readonly string[]): void {
    this.count++
    let node = this.root
    for (let i = 0; i < rule.length; i++) {
      const level = rule[i]
      if (level === '#' && i === rule.length - 1) {
        node.hash = true
        return
      }
      if (level === '+') {
        node.plus ??= newNode()
        node = node.plus
        continue
      }
      const inPlaceholders = this.withPlaceholders && isPlaceholder(level)
      const map = inPlaceholders ? (node.placeholders ??= new Map()) : (node.children ??= new Map())
      let next = map.get(level)
      if (next === undefined) {
        next = newNode()
        map.set(level, next)
      }
      node = next
    }
    node.end = true
  }
}

/** `pos` is where the next input level starts; pos > topic.length means the input is used up. */
function walk (node: Node, topic: string, pos: number, values: Substitutions | undefined): boolean {
  if (node.hash) return true
  const n = topic.length
  if (pos > n) return node.end
  let end = topic.indexOf('/', pos)
  if (end === -1) end = n
  if (node.children !== undefined) {
    const next = node.children.get(topic.slice(pos, end))
    if (next !== undefined && walk(next, topic, end + 1, values)) return true
  }
  if (node.plus !== undefined && walk(node.plus, topic, end + 1, values)) return true
  if (node.placeholders !== undefined && values !== undefined) {
    for (const [placeholder, next] of node.placeholders) {
      const value = substitutePlaceholder(placeholder, values)
      if (value !== undefined && value.length === end - pos && topic.startsWith(value, pos) &&
        walk(next, topic, end + 1, values)) return true
    }
  }
  return false
}
