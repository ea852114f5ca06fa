// GET /metrics as the tests read it: the Prometheus text parsed into one value
// per series (`name{labels}`, exactly as the node prints it).
import assert from 'node:assert/strict'
import type { TestNode } from './processes.js'

export class Samples {
  constructor (readonly bySeries: ReadonlyMap<string, number>) {}

  /** The value of one series (`name{labels}`, or a bare name), undefined when absent. */
  get (series: string): number | undefined {
    return this.bySeries.get(series)
  }

  /** The value of one series; fails when the text has none. */
  value (series: string): number {
    const value = this.bySeries.get(series)
    assert.ok(value !== undefined, `${series} on /metrics`)
    return value
  }

  /** A metric summed over all its label sets; undefined when it has no series. */
  sum (name: string): number | undefined {
    let total: number | undefined
    for (const [series, value] of this.bySeries) {
      if (metricName(series) === name) total = (total ?? 0) + value
    }
    return total
  }
}

/** The metric name of a series (`name{labels}` -> name). */
export function metricName (series: string): string {
  const brace = series.indexOf('{')
  return brace === -1 ? series : series.slice(0, brace)
}

export function parseMetrics (text: string): Samples {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    // label values may hold spaces; the value is the last field (prom-client writes no timestamps)
    const space = line.lastIndexOf(' ')
    samples.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return new Samples(samples)
}

/** GET /metrics of the HTTP listener on `port` (fails unless it answers 200). */
export async function scrape (port: number): Promise<Samples> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  return parseMetrics(await res.text())
}

/** The value of the node's `vernemq_<name>{node="..."}` series (needs an HTTP listener on `httpPort`). */
export async function metric (node: TestNode, httpPort: number, name: string): Promise<number> {
  return (await scrape(httpPort)).value(`vernemq_${name}{node="${node.nodename}"}`)
}
