import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { ApiKeyReply__Output } from '../../rpc/generated/vmq/ApiKeyReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class ApiKeyAdd extends BaseCommand {
  static description = 'Add an API key of your own for the HTTP modules (at least min_apikey_length characters), on every member'
  static examples = ['<%= config.bin %> api-key add key=mykey', '<%= config.bin %> api-key add key=mykey scope=health expires=2027-01-31T23:59:59']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('key=<key> [scope=<scope>] [expires=<yyyy-mm-ddThh:mm:ss>]', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ApiKeyAdd)
    const { key, scope = '', expires = '' } = kvArgs(argv as string[], ['key', 'scope', 'expires'])
    if (key === undefined || key === '') throw new CliError('You have to provide a key (key=<key>)')
    const reply = await callNode<object, ApiKeyReply__Output>(resolveTarget(flags), 'ApiKeyAdd', { key, scope, expires })
    for (const warning of reply.warnings) process.stderr.write(`Warning: ${warning}\n`)
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
