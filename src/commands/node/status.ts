import { BaseCommand } from '../../cli/base.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'

export default class NodeStatus extends BaseCommand {
  static description = 'Show the status of the node: table Status, Value (name, version, uptime, cluster, clients, messages, publishes each cluster link dropped, listeners)'
  static examples = ['<%= config.bin %> node status', '<%= config.bin %> node status --format=json']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(NodeStatus)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'NodeStatus', {})
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
