import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class SessionDisconnect extends BaseCommand {
  static description = 'Disconnect a client, on whichever cluster member holds its session; with --cleanup also delete its subscriptions and queued messages'
  static examples = ['<%= config.bin %> session disconnect client-id=sensor-1', '<%= config.bin %> session disconnect client-id=sensor-1 -m tenant1 --cleanup']
  static strict = false
  static flags = {
    ...targetFlags,
    mountpoint: Flags.string({ char: 'm', description: 'mountpoint of the client', default: '' }),
    cleanup: Flags.boolean({ description: 'also delete the session\'s subscriptions and queued messages' }),
    format: formatFlag
  }
  static usage = kvUsage('client-id=<id>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(SessionDisconnect)
    const clientId = kvArgs(argv as string[], ['client-id'])['client-id']
    if (clientId === undefined || clientId === '') throw new CliError('You have to provide a client-id (client-id=<id>)')
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'SessionDisconnect', { clientId, mountpoint: flags.mountpoint, cleanup: flags.cleanup })
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
