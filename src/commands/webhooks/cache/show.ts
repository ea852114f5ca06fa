import { Flags } from '@oclif/core'
import { BaseCommand } from '../../../cli/base.js'
import { formatFlag, tableOutput, textOutput } from '../../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../../cli/target.js'
import type { Table__Output } from '../../../rpc/generated/vmq/Table.js'
import { fromTable } from '../../../rpc/table.js'

export default class WebhooksCacheShow extends BaseCommand {
  static description = 'Show the webhooks cache counters (hits, misses, entries per endpoint and hook)'
  static examples = ['<%= config.bin %> webhooks cache show', '<%= config.bin %> webhooks cache show --reset']
  static flags = { ...targetFlags, reset: Flags.boolean({ description: 'set the hit and miss counters to zero' }), format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(WebhooksCacheShow)
    const table = await callNode<object, Table__Output>(resolveTarget(flags), 'WebhooksCacheShow', { reset: flags.reset })
    if (flags.reset) process.stdout.write(textOutput(flags.format, 'Done'))
    else process.stdout.write(await tableOutput(flags.format, table.columns, fromTable(table)))
  }
}
