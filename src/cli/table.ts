import Table from 'cli-table3'
import type { CellValue } from '../rpc/table.js'
import { escapeControls } from './escape.js'

/** VerneMQ's table shape: ASCII borders, one space of padding, a rule after every row. */
const ASCII = {
  top: '-', 'top-mid': '+', 'top-left': '+', 'top-right': '+',
  bottom: '-', 'bottom-mid': '+', 'bottom-left': '+', 'bottom-right': '+',
  left: '|', 'left-mid': '+', mid: '-', 'mid-mid': '+',
  right: '|', 'right-mid': '+', middle: '|'
}

/**
 * Renders rows as a table; an empty table prints nothing, as in VerneMQ. The
 * header is bold (ANSI) only on a terminal, so piped output stays plain text.
 */
export function renderTable (columns: string[], rows: Array<Record<string, CellValue>>, bold = process.stdout.isTTY === true): string {
  if (rows.length === 0) return ''
  const table = new Table({
    head: columns.map(c => bold ? `\u001b[1m${c}\u001b[0m` : c),
    chars: ASCII,
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 }
  })
  for (const row of rows) table.push(columns.map(c => renderCell(row[c])))
  return table.toString() + '\n'
}

function renderCell (value: CellValue | undefined): string {
  if (value === null || value === undefined) return 'undefined'
  // a line break stays: cli-table3 draws it inside the cell (plugin show lists hooks one per line)
  return escapeControls(String(value), '\n')
}
