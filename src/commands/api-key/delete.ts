import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { ApiKeyReply__Output } from '../../rpc/generated/vmq/ApiKeyReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class ApiKeyDelete extends BaseCommand {
  static description = 'Delete an API key from a scope (default mgmt), on every member'
  static examples = ['<%= config.bin %> api-key delete key=JxctXkZ1OTVnlwvguSCE9KtujacMkOLF', '<%= config.bin %> api-key delete key=mykey scope=metrics']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('key=<key> [scope=<scope>]', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ApiKeyDelete)
    const { key, scope = '' } = kvArgs(argv as string[], ['key', 'scope'])
    if (key === undefined || key === '') throw new CliError('You have to provide a key (key=<key>)')
    const reply = await callNode<object, ApiKeyReply__Output>(resolveTarget(flags), 'ApiKeyDelete', { key, scope })
    for (const warning of reply.warnings) process.stderr.write(`Warning: ${warning}\n`)
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
