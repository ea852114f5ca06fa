import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'
import { kvUsage } from '../../cli/usage.js'

const USAGE = 'Usage: vmq-admin webhooks register hook=<Hook> endpoint=<Url> [--base64payload=true|false] [--no_payload=true|false] [--response_timeout=<ms>]'

export default class WebhooksRegister extends BaseCommand {
  static description = 'Register a webhook endpoint with a hook (until the node or the plugin stops)'
  static examples = [
    '<%= config.bin %> webhooks register hook=auth_on_register endpoint=http://127.0.0.1:8080/auth',
    '<%= config.bin %> webhooks register hook=on_publish endpoint=http://127.0.0.1:8080/pub --base64payload=false'
  ]

  static strict = false
  static flags = {
    ...targetFlags,
    base64payload: Flags.string({ description: 'base64-encode the MQTT payload (default true)', options: ['true', 'false'], default: 'true' }),
    no_payload: Flags.string({ description: 'auth_on_publish(_m5): leave the payload out of the request (default false)', options: ['true', 'false'], default: 'false' }),
    response_timeout: Flags.integer({ description: 'ms to wait for the endpoint to answer (default 5000)', min: 1, default: 5000 }),
    format: formatFlag
  }
  static usage = kvUsage('hook=<hook> endpoint=<url>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(WebhooksRegister)
    const args = kvArgs(argv as string[], ['hook', 'endpoint'])
    if (args.hook === undefined || args.endpoint === undefined) throw new CliError(USAGE)
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'WebhooksRegister', {
      hook: args.hook, endpoint: args.endpoint, base64Payload: flags.base64payload === 'true', noPayload: flags.no_payload === 'true', responseTimeout: flags.response_timeout
    })
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
