import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { formatFlag, tableOutput } from '../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../cli/target.js'
import type { Table__Output } from '../rpc/generated/vmq/Table.js'
import { fromTable } from '../rpc/table.js'

export default class Show extends BaseCommand {
  static description = 'Show current values of configuration keys on a running node'
  static examples = ['<%= config.bin %> show max_client_id_size allow_anonymous']
  static strict = false
  static args = { key: Args.string({ description: 'configuration key(s)', required: true }) }
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(Show)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'ConfigShow', { keys: argv as string[] })
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
