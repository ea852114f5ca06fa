import { BaseCommand } from '../../cli/base.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'

export default class PluginShow extends BaseCommand {
  static description = 'Show the plugins running on the node and the hooks each one implements'
  static examples = ['<%= config.bin %> plugin show']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(PluginShow)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'PluginShow', {})
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
