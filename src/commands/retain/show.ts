import { BaseCommand } from '../../cli/base.js'
import { tableOutput } from '../../cli/output.js'
import { parseQueryArgs, queryHelpFlags } from '../../cli/query-args.js'
import { callNode, resolveTarget } from '../../cli/target.js'
import type { QueryReply__Output } from '../../rpc/generated/vmq/QueryReply.js'
import { RETAIN_FIELDS } from '../../rpc/query-fields.js'
import { fromTable } from '../../rpc/table.js'

export default class RetainShow extends BaseCommand {
  static description = 'Show the retained messages of the node (every member holds the same ones). ' +
    'A bare --<field> adds a column (default: payload, topic); --<field>=<value> filters. The node to ask: -n <host:port>.'

  static examples = [
    '<%= config.bin %> retain show',
    '<%= config.bin %> retain show --topic=sensors/+/temp',
    '<%= config.bin %> retain show --mountpoint --topic --payload=on'
  ]

  static strict = false
  static flags = queryHelpFlags(RETAIN_FIELDS)

  async run (): Promise<void> {
    const args = parseQueryArgs(this.argv)
    const reply = await callNode<object, QueryReply__Output>(resolveTarget(args.target), 'RetainShow', { fields: args.fields, filters: args.filters, limit: args.limit })
    const table = reply.table ?? { columns: [], rows: [] }
    process.stdout.write(await tableOutput(args.format, table.columns, fromTable(table)))
  }
}
