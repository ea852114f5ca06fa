// Shared subscriptions (`$share/<group>/<filter>`): aedes treats such a filter as
// a plain topic, so the node's emitter keeps the groups itself. Each group has
// one dispatcher listening on <filter>; per message it hands the message to one
// local member, round robin, but only when the node that took the publish chose
// this node for that group (see Forwarder.route).
import type { MQEmitter } from 'mqemitter'
import type { ShareParts } from '../mqtt/topic.js'

type Listener = (message: any, done: () => void) => void

interface Group {
  filter: string
  members: Listener[]
  next: number
  dispatch: Listener
}

export class SharedGroups {
  private readonly groups = new Map<string, Group>()
  /** share filters this node must deliver, per message (brokerId + counter) */
  private readonly designated = new Map<string, ReadonlySet<string>>()

  constructor (private readonly inner: MQEmitter) {}

  get size (): number { return this.groups.size }

  /** Adds a member; true when the group is new on this node. */
  add (share: string, parts: ShareParts, listener: Listener, done?: () => void): boolean {
    let group = this.groups.get(share)
    if (group !== undefined) {
      group.members.push(listener)
      done?.()
      return false
    }
    const created: Group = { filter: parts.filter, members: [listener], next: 0, dispatch: (message, cb) => { this.dispatch(share, created, message, cb) } }
    group = created
    this.groups.set(share, group)
    this.inner.on(parts.filter, group.dispatch, done)
    return true
  }

  /** Removes a member; true when the group is gone from this node. */
  remove (share: string, listener: Listener, done?: () => void): boolean {
    const group = this.groups.get(share)
    const index = group?.members.indexOf(listener) ?? -1
    if (group === undefined || index < 0) {
      done?.()
      return false
    }
    group.members.splice(index, 1)
    if (group.members.length > 0) {
      done?.()
      return false
    }
    this.groups.delete(share)
    this.inner.removeListener(group.filter, group.dispatch, done)
    return true
  }

  /** The share filters of local groups, for the routing decision. */
  shares (): string[] {
    return [...this.groups.keys()]
  }

  designate (key: string, shares: ReadonlySet<string>): void {
    this.designated.set(key, shares)
  }

  release (key: string): void {
    this.designated.delete(key)
  }

  private dispatch (share: string, group: Group, message: { brokerId?: string, brokerCounter?: number }, done: () => void): void {
    const chosen = this.designated.get(`${message.brokerId ?? ''}:${message.brokerCounter ?? 0}`)
    if (chosen?.has(share) !== true || group.members.length === 0) {
      done()
      return
    }
    const member = group.members[group.next++ % group.members.length]
    member(message, done)
  }
}
