import { BaseCommand } from '../../../cli/base.js'
import { formatFlag, textOutput } from '../../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../../cli/target.js'
import type { TextReply__Output } from '../../../rpc/generated/vmq/TextReply.js'

export default class WebhooksCacheClear extends BaseCommand {
  static description = 'Empty the webhooks cache and its counters'
  static examples = ['<%= config.bin %> webhooks cache clear']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(WebhooksCacheClear)
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'WebhooksCacheClear', {})
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
