import { BaseCommand } from '../../cli/base.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'

export default class ClusterShow extends BaseCommand {
  static description = 'Show the members of the cluster and whether each is running'
  static examples = ['<%= config.bin %> cluster show', '<%= config.bin %> cluster show --format=json']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(ClusterShow)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'ClusterShow', {})
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
