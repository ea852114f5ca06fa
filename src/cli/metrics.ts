// `metrics show` output: VerneMQ's `<type>.<name> = <value>` lines, summed
// over labels and members by default, or one line per member and label set.
import type { MetricSample__Output } from '../rpc/generated/vmq/MetricSample.js'
import type { CellValue } from '../rpc/table.js'

export interface MetricsView {
  aggregate: boolean
  descriptions: boolean
  /** label -> value a series must have */
  filters: Record<string, string>
}

interface Line { type: string, name: string, help: string, node: string, labels: string, value: number }

/** The series to print, in the order the node lists them, filtered and (by default) summed. */
export function metricLines (samples: MetricSample__Output[], view: MetricsView): Line[] {
  const lines = new Map<string, Line>()
  for (const s of samples) {
    if (!Object.entries(view.filters).every(([label, value]) => s.labels[label] === value)) continue
    const { le, ...labels } = s.labels
    // a histogram bucket is its own name, as VerneMQ prints them: <name>_bucket_<le|infinity>
    const name = le === undefined ? s.name : `${s.name}_${le === '+Inf' ? 'infinity' : le}`
    const labelText = view.aggregate ? '' : Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')
    const node = view.aggregate ? '' : s.node
    const key = `${s.type}.${name}\u0000${node}\u0000${labelText}`
    const line = lines.get(key)
    if (line === undefined) lines.set(key, { type: s.type, name, help: s.help, node, labels: labelText, value: s.value })
    else line.value += s.value
  }
  return [...lines.values()]
}

export function metricsText (lines: Line[], view: MetricsView): string {
  let out = ''
  let last = ''
  for (const line of lines) {
    const id = `${line.type}.${line.name}`
    if (view.descriptions && id !== last) out += `${last === '' ? '' : '\n'}# ${line.help}\n`
    last = id
    const labels = view.aggregate ? '' : `{${[line.labels, `node=${JSON.stringify(line.node)}`].filter(t => t !== '').join(',')}}`
    out += `${id}${labels} = ${formatValue(line.value)}\n`
  }
  return out
}

export function metricsRows (lines: Line[], view: MetricsView): { columns: string[], rows: Array<Record<string, CellValue>> } {
  const columns = ['type', 'name', ...(view.aggregate ? [] : ['node', 'labels']), 'value', ...(view.descriptions ? ['description'] : [])]
  const rows = lines.map(l => {
    const row: Record<string, CellValue> = { type: l.type, name: l.name }
    if (!view.aggregate) { row.node = l.node; row.labels = l.labels }
    row.value = l.value
    if (view.descriptions) row.description = l.help
    return row
  })
  return { columns, rows }
}

/** Integers as integers; fractions (seconds, ratios) as they come. */
function formatValue (value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6)
}
