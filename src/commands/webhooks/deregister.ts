import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class WebhooksDeregister extends BaseCommand {
  static description = 'Deregister a webhook endpoint from a hook'
  static examples = ['<%= config.bin %> webhooks deregister hook=auth_on_register endpoint=http://127.0.0.1:8080/auth']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('hook=<hook> endpoint=<url>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(WebhooksDeregister)
    const args = kvArgs(argv as string[], ['hook', 'endpoint'])
    if (args.hook === undefined || args.endpoint === undefined) throw new CliError('Usage: vmq-admin webhooks deregister hook=<Hook> endpoint=<Url>')
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'WebhooksDeregister', { hook: args.hook, endpoint: args.endpoint })
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
