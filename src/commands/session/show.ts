import { BaseCommand } from '../../cli/base.js'
import { tableOutput } from '../../cli/output.js'
import { parseQueryArgs, queryHelpFlags } from '../../cli/query-args.js'
import { callNode, resolveTarget } from '../../cli/target.js'
import type { QueryReply__Output } from '../../rpc/generated/vmq/QueryReply.js'
import { SESSION_FIELDS } from '../../rpc/query-fields.js'
import { fromTable } from '../../rpc/table.js'

export default class SessionShow extends BaseCommand {
  static description = 'Show the online clients and offline persistent sessions of every cluster member. ' +
    'A bare --<field> adds a column (default: client_id, is_online, mountpoint, peer_host, peer_port, user); --<field>=<value> filters ' +
    '(true/false, integers, ~regex). The node to ask: -n <host:port> or --node=<host:port>. A member that does not answer is named on stderr.'

  static examples = [
    '<%= config.bin %> session show',
    '<%= config.bin %> session show --client_id --topic --qos --is_online=true',
    '<%= config.bin %> session show --user=~^sensor --limit=10 --format=json'
  ]

  static strict = false
  static flags = queryHelpFlags(SESSION_FIELDS)

  async run (): Promise<void> {
    const args = parseQueryArgs(this.argv)
    const reply = await callNode<object, QueryReply__Output>(resolveTarget(args.target), 'SessionShow', { fields: args.fields, filters: args.filters, limit: args.limit })
    for (const warning of reply.warnings) process.stderr.write(`Warning: ${warning}\n`)
    const table = reply.table ?? { columns: [], rows: [] }
    process.stdout.write(await tableOutput(args.format, table.columns, fromTable(table)))
  }
}
