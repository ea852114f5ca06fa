// The query model of `session show` and `retain show`, as VerneMQ's vmq_ql:
// a bare `--<field>` adds a column, `--<field>=<value>` only filters (filters
// are ANDed), columns are printed in alphabetical order, and at most `limit`
// rows come back. Values given as `true`/`false` compare as booleans,
// integer-looking values as numbers (except for text-only fields such as
// client_id), a value starting with `~` is a regular expression, anything else
// compares as text. A missing value (null) is VerneMQ's `undefined`.
import { InvalidRequest } from '../../errors.js'
import type { CellValue } from '../../rpc/table.js'

export type Row = Record<string, CellValue>

export interface QueryShape {
  /** every field this query knows, for the error on an unknown one */
  fields: readonly string[]
  /** the columns without bare field flags */
  defaults: readonly string[]
  /** fields rows are ordered by first (then the columns) */
  sortBy: readonly string[]
  /** fields whose filter values are always text */
  textOnly?: readonly string[]
  /** how a filter of a field matches, when not by typed equality (e.g. MQTT topic matching) */
  matchers?: Readonly<Record<string, (filter: string, value: CellValue) => boolean>>
}

export interface Query {
  columns: string[]
  /** fields rows are sorted by */
  order: string[]
  filters: Array<{ field: string, test: (value: CellValue) => boolean }>
  limit: number
}

export const DEFAULT_LIMIT = 100

/** Checks the request against the fields of the shape and compiles its filters. */
export function compileQuery (shape: QueryShape, request: { fields?: string[], filters?: Array<{ field?: string, value?: string }>, limit?: number }): Query {
  const asked = request.fields ?? []
  const filters = (request.filters ?? []).map(f => ({ field: f.field ?? '', value: f.value ?? '' }))
  const unknown = [...asked, ...filters.map(f => f.field)].filter(f => !shape.fields.includes(f))
  if (unknown.length > 0) {
    throw new InvalidRequest(`Unknown field ${[...new Set(unknown)].map(f => `--${f}`).join(', ')}; known fields: ${shape.fields.join(', ')}`)
  }
  const columns = [...new Set(asked.length > 0 ? asked : shape.defaults)].sort()
  return {
    columns,
    order: [...shape.sortBy, ...columns],
    filters: filters.map(({ field, value }) => ({ field, test: compileFilter(shape, field, value) })),
    limit: request.limit !== undefined && request.limit > 0 ? request.limit : DEFAULT_LIMIT
  }
}

function compileFilter (shape: QueryShape, field: string, raw: string): (value: CellValue) => boolean {
  if (raw.startsWith('~')) {
    let re: RegExp
    try {
      re = new RegExp(raw.slice(1))
    } catch (err) {
      throw new InvalidRequest(`Invalid regular expression in --${field}=${raw}: ${(err as Error).message}`)
    }
    return value => re.test(display(value))
  }
  const custom = shape.matchers?.[field]
  if (custom !== undefined) return value => custom(raw, value)
  const expected = shape.textOnly?.includes(field) === true ? raw : typed(raw)
  return value => value === expected || (value === null && raw === 'undefined') || (typeof value === 'number' && typeof expected === 'string' && String(value) === expected)
}

function typed (raw: string): CellValue {
  if (raw === 'true') return true
  if (raw === 'false') return false
  if (/^-?\d+$/.test(raw)) return Number(raw)
  return raw
}

function display (value: CellValue): string {
  return value === null ? 'undefined' : String(value)
}

export function matchesAll (query: Query, row: Row): boolean {
  return query.filters.every(f => f.test(row[f.field] ?? null))
}

/** The row reduced to the query's columns. */
export function project (query: Query, row: Row): Row {
  return Object.fromEntries(query.columns.map(c => [c, row[c] ?? null]))
}

/** Orders rows by the given fields (text order; nulls first) so output is stable. */
export function sortRows (rows: Row[], by: readonly string[]): Row[] {
  return rows.sort((a, b) => {
    for (const f of by) {
      const x = display(a[f] ?? null)
      const y = display(b[f] ?? null)
      if (x !== y) return x < y ? -1 : 1
    }
    return 0
  })
}
