import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { resolveTarget, streamNode, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class ClusterLeave extends BaseCommand {
  static description = 'Remove a node from the cluster; with -k its sessions are disconnected and its offline queues move to the other members'
  static examples = ['<%= config.bin %> cluster leave node=VerneMQ@10.0.0.2', '<%= config.bin %> cluster leave node=VerneMQ@10.0.0.2 -k']
  static strict = false
  static flags = {
    ...targetFlags,
    kill_sessions: Flags.boolean({ char: 'k', description: 'disconnect its sessions and migrate its offline queues, then stop it' }),
    timeout: Flags.integer({ char: 't', description: 'seconds the whole operation may take', default: 60, min: 1 }),
    'summary-interval': Flags.integer({ char: 'i', description: 'accepted for compatibility; progress is printed every second', default: 5, min: 1 }),
    format: formatFlag
  }
  static usage = kvUsage('node=<node>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ClusterLeave)
    const node = kvArgs(argv as string[], ['node']).node
    if (node === undefined || node === '') throw new CliError('You have to provide a node')
    await streamNode<object, TextReply__Output>(resolveTarget(flags), 'ClusterLeave', { node, killSessions: flags.kill_sessions, timeoutSeconds: flags.timeout }, (flags.timeout + 5) * 1000,
      reply => { process.stdout.write(textOutput(flags.format, reply.text)) })
  }
}
