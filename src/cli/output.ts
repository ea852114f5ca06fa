// What a command prints: a table or a text, as a human table or as VerneMQ's JSON shapes.
import { Flags } from '@oclif/core'
import type { CellValue } from '../rpc/table.js'
import { escapeControls } from './escape.js'

export const formatFlag = Flags.string({
  description: 'output format',
  options: ['human', 'json'],
  default: 'human'
})

export type Format = 'human' | 'json'

/** cli-table3 is loaded only when a human table is printed (JSON output skips it). */
export async function tableOutput (format: string, columns: string[], rows: Array<Record<string, CellValue>>): Promise<string> {
  if (format === 'json') return JSON.stringify({ type: 'table', table: rows.map(r => trimStrings(r)) }) + '\n'
  const { renderTable } = await import('./table.js')
  return renderTable(columns, rows)
}

export function textOutput (format: string, text: string): string {
  if (format === 'json') return JSON.stringify({ type: 'text', text }) + '\n'
  return text === '' ? '' : escapeControls(text, '\n\t') + '\n'
}

function trimStrings (row: Record<string, CellValue>): Record<string, CellValue> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v]))
}
