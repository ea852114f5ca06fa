import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { metricLines, metricsRows, metricsText, type MetricsView } from '../../cli/metrics.js'
import { formatFlag, tableOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { MetricsReply__Output } from '../../rpc/generated/vmq/MetricsReply.js'

export default class MetricsShow extends BaseCommand {
  static description = 'Show the metrics of the cluster as `<type>.<name> = <value>` lines (the values GET /metrics serves): ' +
    'summed over every running member and label by default; --aggregate=false gives one line per member and label set. ' +
    'A member that does not answer is named on stderr.'

  static examples = [
    '<%= config.bin %> metrics show',
    '<%= config.bin %> metrics show -d --mqtt_version=5',
    '<%= config.bin %> metrics show --aggregate=false --format=json'
  ]

  static flags = {
    ...targetFlags,
    'with-descriptions': Flags.boolean({ char: 'd', description: 'a `# <description>` line before each metric' }),
    aggregate: Flags.string({ char: 'a', description: 'sum over members and labels', options: ['true', 'false'], default: 'true' }),
    mqtt_version: Flags.string({ description: 'only the series of this MQTT version (label mqtt_version)', options: ['4', '5'] }),
    return_code: Flags.string({ description: 'only the series with this return_code label (MQTT 3.1.1 CONNACK)' }),
    reason_code: Flags.string({ description: 'only the series with this reason_code label (MQTT 5 CONNACK)' }),
    format: formatFlag
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(MetricsShow)
    const filters: Record<string, string> = {}
    for (const label of ['mqtt_version', 'return_code', 'reason_code'] as const) if (flags[label] !== undefined) filters[label] = flags[label]
    const view: MetricsView = { aggregate: flags.aggregate === 'true', descriptions: flags['with-descriptions'], filters }
    const reply = await callNode<object, MetricsReply__Output>(resolveTarget(flags), 'MetricsShow', {})
    for (const warning of reply.warnings) process.stderr.write(`Warning: ${warning}\n`)
    const lines = metricLines(reply.samples, view)
    if (flags.format === 'json') {
      const { columns, rows } = metricsRows(lines, view)
      process.stdout.write(await tableOutput('json', columns, rows))
    } else {
      process.stdout.write(metricsText(lines, view))
    }
  }
}
