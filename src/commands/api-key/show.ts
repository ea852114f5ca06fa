import { BaseCommand } from '../../cli/base.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'
import { kvUsage } from '../../cli/usage.js'

export default class ApiKeyShow extends BaseCommand {
  static description = 'Show the API keys of the node, of one scope or all (default)'
  static examples = ['<%= config.bin %> api-key show', '<%= config.bin %> api-key show scope=metrics']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('[scope=<scope>|all]', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ApiKeyShow)
    const { scope = '' } = kvArgs(argv as string[], ['scope'])
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'ApiKeyShow', { scope })
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
