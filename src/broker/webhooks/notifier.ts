// The on_* hooks are notifications: nobody waits for them, so they must not
// pile up when an endpoint is slow. At most MAX_ACTIVE calls run at once and
// MAX_WAITING wait; beyond that a notification is dropped and counted. The
// first drop of a run of drops is logged, and the count when calls flow again.
const MAX_ACTIVE = 32
const MAX_WAITING = 10_000

export class Notifier {
  private active = 0
  private readonly waiting: Array<() => Promise<void>> = []
  /** notifications dropped since the node started */
  dropped = 0
  private droppedInRun = 0

  constructor (private readonly log: (level: 'warn' | 'info', msg: string) => void, private readonly onDrop: () => void = () => {}, private readonly limits = { active: MAX_ACTIVE, waiting: MAX_WAITING }) {}

  push (call: () => Promise<void>): void {
    if (this.active < this.limits.active) {
      this.run(call)
      return
    }
    if (this.waiting.length < this.limits.waiting) {
      this.waiting.push(call)
      return
    }
    this.dropped++
    this.onDrop()
    if (this.droppedInRun++ === 0) this.log('warn', `webhook notifications dropped: ${this.limits.active} calls running and ${this.limits.waiting} waiting (endpoints too slow)`)
  }

  private run (call: () => Promise<void>): void {
    this.active++
    call().catch(() => {}).finally(() => {
      this.active--
      const next = this.waiting.shift()
      if (next !== undefined) this.run(next)
      else if (this.droppedInRun > 0) {
        this.log('info', `webhook notifications flow again; ${this.droppedInRun} were dropped`)
        this.droppedInRun = 0
      }
    })
  }
}
