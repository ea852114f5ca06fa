import { BaseCommand } from '../../cli/base.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'

export default class MetricsReset extends BaseCommand {
  static description = 'Start the counters of every running member again from 0 (gauges and the Node.js process metrics are left alone)'
  static examples = ['<%= config.bin %> metrics reset']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(MetricsReset)
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'MetricsReset', {})
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
