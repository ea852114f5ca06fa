import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { escapeControls } from '../../cli/escape.js'
import { kvArgs } from '../../cli/kv-args.js'
import { followNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TraceLine__Output } from '../../rpc/generated/vmq/TraceLine.js'
import { kvUsage } from '../../cli/usage.js'

export default class TraceClient extends BaseCommand {
  static description = 'Print the MQTT packets a client sends (MQTT RECV) and receives (MQTT SEND) until Ctrl-C, ' +
    'on whichever running member it is connected to, or waiting for it to connect. At most --rate-max lines per --rate-interval ms ' +
    'per member; the lines over it are counted and the count printed.'

  static examples = [
    '<%= config.bin %> trace client client-id=sensor-1',
    '<%= config.bin %> trace client client-id=sensor-1 -m tenant1 --rate-max=100 --rate-interval=1000'
  ]

  static strict = false
  static flags = {
    ...targetFlags,
    mountpoint: Flags.string({ char: 'm', description: 'mountpoint of the client', default: '' }),
    'rate-max': Flags.integer({ description: 'lines per --rate-interval at most', default: 10, min: 1, max: 1_000_000 }),
    'rate-interval': Flags.integer({ description: 'milliseconds of the rate limit', default: 100, min: 1, max: 3_600_000 }),
    'trunc-payload': Flags.integer({ description: 'payload bytes shown per PUBLISH', default: 200, min: 1, max: 1_048_576 })
  }
  static usage = kvUsage('client-id=<id>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(TraceClient)
    const clientId = kvArgs(argv as string[], ['client-id'])['client-id']
    if (clientId === undefined || clientId === '') throw new CliError('You have to provide a client-id (client-id=<id>)')
    const stop = new Promise<void>(resolve => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    process.stdout.on('error', () => { process.exit(0) }) // the reader went away (e.g. `| head`)
    const request = {
      clientId, mountpoint: flags.mountpoint, rateMax: flags['rate-max'], rateIntervalMs: flags['rate-interval'], truncPayload: flags['trunc-payload']
    }
    await followNode<object, TraceLine__Output>(resolveTarget(flags), 'TraceClient', request, line => {
      if (process.stdout.write(escapeControls(line.text) + '\n')) return undefined
      return new Promise<void>(resolve => process.stdout.once('drain', resolve))
    }, stop)
  }
}
