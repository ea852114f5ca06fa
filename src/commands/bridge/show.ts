import { BaseCommand } from '../../cli/base.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'

export default class BridgeShow extends BaseCommand {
  static description = 'Show the MQTT bridges of the node: remote endpoint, connection status, outgoing buffer (size, max, dropped messages) and message counts'
  static examples = ['<%= config.bin %> bridge show']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(BridgeShow)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'BridgeShow', {})
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
