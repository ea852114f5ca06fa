import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'

export default class RetainDelete extends BaseCommand {
  static description = 'Delete the retained message of a topic on every cluster member'
  static examples = ['<%= config.bin %> retain delete -t sensors/1/temp', '<%= config.bin %> retain delete --topic=status -m tenant1']
  static flags = {
    ...targetFlags,
    topic: Flags.string({ char: 't', description: 'topic of the retained message (no wildcards)' }),
    mountpoint: Flags.string({ char: 'm', description: 'mountpoint of the message', default: '' }),
    format: formatFlag
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(RetainDelete)
    if (flags.topic === undefined || flags.topic === '') throw new CliError('No valid topic given.')
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'RetainDelete', { topic: flags.topic, mountpoint: flags.mountpoint })
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
