import { BaseCommand } from '../../cli/base.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'

export default class WebhooksShow extends BaseCommand {
  static description = 'Show the registered webhooks (plugin vmq_webhooks)'
  static examples = ['<%= config.bin %> webhooks show']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(WebhooksShow)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'WebhooksShow', {})
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
