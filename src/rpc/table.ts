import type { Cell } from './generated/vmq/Cell.js'
import type { Table, Table__Output } from './generated/vmq/Table.js'
import type { Cell__Output } from './generated/vmq/Cell.js'

export type CellValue = string | number | boolean | null

/** Builds the wire table from rows keyed by column name. */
export function toTable (columns: string[], rows: Array<Record<string, CellValue>>): Table {
  return { columns, rows: rows.map(row => ({ cells: columns.map(c => toCell(row[c] ?? null)) })) }
}

function toCell (value: CellValue): Cell {
  if (value === null) return {}
  if (typeof value === 'string') return { text: value }
  if (typeof value === 'boolean') return { flag: value }
  return { number: value }
}

/** The rows of a received table, keyed by column name, in column order. */
export function fromTable (table: Table__Output): Array<Record<string, CellValue>> {
  return table.rows.map(row => Object.fromEntries(table.columns.map((c, i) => [c, fromCell(row.cells[i])])))
}

function fromCell (cell: Cell__Output | undefined): CellValue {
  switch (cell?.kind) {
    case 'text': return cell.text ?? ''
    case 'flag': return cell.flag ?? false
    case 'number': return cell.number ?? 0
    default: return null
  }
}
