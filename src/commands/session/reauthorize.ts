import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class SessionReauthorize extends BaseCommand {
  static description = 'Check the subscriptions of a session against the authorization plugins again and remove those no longer allowed; prints Done, or Unchanged when none was removed'
  static examples = ['<%= config.bin %> session reauthorize username=bob client-id=sensor-1']
  static strict = false
  static flags = {
    ...targetFlags,
    mountpoint: Flags.string({ char: 'm', description: 'mountpoint of the client', default: '' }),
    format: formatFlag
  }
  static usage = kvUsage('username=<user> client-id=<id>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(SessionReauthorize)
    const args = kvArgs(argv as string[], ['username', 'client-id'])
    if (args.username === undefined || args.username === '') throw new CliError('You have to provide a username (username=<name>)')
    if (args['client-id'] === undefined || args['client-id'] === '') throw new CliError('You have to provide a client-id (client-id=<id>)')
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'SessionReauthorize', { username: args.username, clientId: args['client-id'], mountpoint: flags.mountpoint })
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
