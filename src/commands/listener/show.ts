import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { Table__Output } from '../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../rpc/table.js'

export default class ListenerShow extends BaseCommand {
  static description = 'Show the MQTT listeners of the node: type, status, address, port, mountpoint and connections'
  static examples = ['<%= config.bin %> listener show', '<%= config.bin %> listener show --tls --mqtt']
  static flags = {
    ...targetFlags,
    format: formatFlag,
    tls: Flags.boolean({ char: 't', description: 'add the TLS columns' }),
    mqtt: Flags.boolean({ description: 'add the MQTT columns (allowed_protocol_versions, allow_anonymous_override)' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(ListenerShow)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'ListenerShow', { tls: flags.tls, mqtt: flags.mqtt })
    process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
