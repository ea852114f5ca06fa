// The $SYS tree (systree_enabled, systree_interval): every interval, each of
// the node's metrics is published to `$SYS/<nodename>/<name>`, its name split
// at `_` into topic levels as VerneMQ does (mqtt_publish_received ->
// $SYS/<nodename>/mqtt/publish/received), payload the value in decimal, QoS 0,
// not retained. Values are the ones /metrics shows, labels summed.
import type { Settings } from '../../config/settings.js'
import type { Logger } from '../log.js'
import type { MetricValue } from './metrics.js'

const KEYS = new Set(['systree_enabled', 'systree_interval'])

export interface SystreeHost {
  settings: Settings
  log: Logger
  nodeName: () => string
  snapshot: () => Promise<MetricValue[]>
  publish: (topic: string, payload: Buffer) => Promise<void>
}

/** The topic of a metric in the $SYS tree. */
export function systreeTopic (nodeName: string, metric: string): string {
  return `$SYS/${nodeName}/${metric.split('_').join('/')}`
}

export class Systree {
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly onChange = (key: string): void => { if (KEYS.has(key)) this.schedule() }

  constructor (private readonly host: SystreeHost) {}

  start (): void {
    this.host.settings.on('change', this.onChange)
    this.schedule()
  }

  stop (): void {
    this.stopped = true
    this.host.settings.off('change', this.onChange)
    clearTimeout(this.timer)
  }

  /** (Re)arms the timer from the current settings; interval 0 or enabled off = nothing published. */
  private schedule (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const interval = this.host.settings.number('systree_interval')
    if (this.stopped || !this.host.settings.flag('systree_enabled') || interval <= 0) return
    this.timer = setTimeout(() => {
      this.publishAll().then(() => { this.schedule() }, (err: Error) => {
        this.host.log.warn({ err: err.message }, '$SYS metrics not published')
        this.schedule()
      })
    }, interval)
    this.timer.unref()
  }

  private async publishAll (): Promise<void> {
    const name = this.host.nodeName()
    for (const metric of await this.host.snapshot()) {
      if (this.stopped) return
      await this.host.publish(systreeTopic(name, metric.name), Buffer.from(String(metric.value)))
    }
  }
}
