// In-memory index of persistent QoS>0 subscriptions, so that finding who must
// get a copy of a message queued never touches the disk.
//
// Matching follows filterMatches (src/mqtt/topic.ts); its unit test checks
// the index against it.
// Result order mirrors aedes' qlobber-based memory store: at each level `#`
// first, then the filter ending here, then the exact word, then `+`.

export interface IndexedSubscription {
  qos: number
  rh?: number
  rap?: boolean
  nl?: boolean
}

export interface TopicMatch extends IndexedSubscription {
  clientId: string
  topic: string
}

interface Node {
  children: Map<string, Node>
  subscribers: Map<string, IndexedSubscription> | undefined
  /** the filter ending at this node, set once it has subscribers */
  filter: string
}

function newNode (): Node {
  return { children: new Map(), subscribers: undefined, filter: '' }
}

/**
 * Topics whose matches are remembered until the next subscription change:
 * every QoS 1/2 PUBLISH asks the index (twice), and most traffic repeats topics.
 */
const MATCH_CACHE_SIZE = 10_000
const NO_MATCHES: readonly TopicMatch[] = Object.freeze([])

export class TopicIndex {
  #root = newNode()
  #count = 0
  #cache = new Map<string, readonly TopicMatch[]>()

  /** Number of (client, filter) pairs held. */
  get count (): number {
    return this.#count
  }

  add (filter: string, clientId: string, sub: IndexedSubscription): void {
    let node = this.#root
    for (const word of filter.split('/')) {
      let child = node.children.get(word)
      if (child === undefined) {
        child = newNode()
        node.children.set(word, child)
      }
      node = child
    }
    node.subscribers ??= new Map()
    node.filter = filter
    this.#cache.clear()
    if (!node.subscribers.has(clientId)) this.#count++
    node.subscribers.set(clientId, { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl })
  }

  remove (filter: string, clientId: string): void {
    const path: Node[] = [this.#root]
    const words = filter.split('/')
    for (const word of words) {
      const child = path[path.length - 1].children.get(word)
      if (child === undefined) return
      path.push(child)
    }
    const leaf = path[path.length - 1]
    if (leaf.subscribers?.delete(clientId) !== true) return
    this.#count--
    this.#cache.clear()
    if (leaf.subscribers.size === 0) leaf.subscribers = undefined
    for (let i = words.length; i > 0; i--) {
      const node = path[i]
      if (node.subscribers !== undefined || node.children.size > 0) break
      path[i - 1].children.delete(words[i - 1])
    }
  }

  /** The subscriptions matching `topic`; the list is shared, callers must not change it. */
  match (topic: string): readonly TopicMatch[] {
    if (this.#count === 0) return NO_MATCHES
    const cached = this.#cache.get(topic)
    if (cached !== undefined) return cached
    const out: TopicMatch[] = []
    this.#collect(this.#root, topic.split('/'), 0, out)
    if (this.#cache.size >= MATCH_CACHE_SIZE) this.#cache.clear()
    const frozen = Object.freeze(out)
    this.#cache.set(topic, frozen)
    return frozen
  }

  #collect (node: Node, words: string[], depth: number, out: TopicMatch[]): void {
    const hidden = depth === 0 && words[0].startsWith('$')
    const rest = hidden ? undefined : node.children.get('#')
    if (rest !== undefined) emit(rest, out)
    if (depth === words.length) {
      emit(node, out)
      return
    }
    const word = words[depth]
    if (word !== '+' && word !== '#') {
      const exact = node.children.get(word)
      if (exact !== undefined) this.#collect(exact, words, depth + 1, out)
    }
    const one = hidden ? undefined : node.children.get('+')
    if (one !== undefined) this.#collect(one, words, depth + 1, out)
  }
}

function emit (node: Node, out: TopicMatch[]): void {
  if (node.subscribers === undefined) return
  for (const [clientId, sub] of node.subscribers) {
    out.push({ clientId, topic: node.filter, qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl })
  }
}
