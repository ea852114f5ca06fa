import { BaseCommand } from '../../cli/base.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { ApiKeyReply__Output } from '../../rpc/generated/vmq/ApiKeyReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class ApiKeyCreate extends BaseCommand {
  static description = 'Create a random API key for the HTTP modules (scope status, mgmt, metrics, health, api2 or httppub; default mgmt), on every member; prints the key'
  static examples = ['<%= config.bin %> api-key create', '<%= config.bin %> api-key create scope=metrics expires=2027-04-04T12:00:00']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('[scope=<scope>] [expires=<yyyy-mm-ddThh:mm:ss>]', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ApiKeyCreate)
    const { scope = '', expires = '' } = kvArgs(argv as string[], ['scope', 'expires'])
    const reply = await callNode<object, ApiKeyReply__Output>(resolveTarget(flags), 'ApiKeyCreate', { scope, expires })
    for (const warning of reply.warnings) process.stderr.write(`Warning: ${warning}\n`)
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
