import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { CliError } from '../cli/errors.js'
import { loadConfig } from '../config/load.js'
import { ConfigError } from '../config/parse.js'
import { availableParallelism } from 'node:os'
import type { BrokerNode } from '../broker/node.js'
import { removePortsFile, writePortsFile } from '../broker/ports-file.js'

export default class Start extends BaseCommand {
  static description = 'Run a broker node in the foreground (Ctrl-C or SIGTERM stops it cleanly)'
  static examples = [
    '<%= config.bin %> start',
    '<%= config.bin %> start -c /etc/vernemq/vernemq.conf',
    '<%= config.bin %> start --set listener.tcp.default=127.0.0.1:1884 --set allow_anonymous=on'
  ]

  static flags = {
    config: Flags.string({ char: 'c', description: 'vernemq.conf to use; without it the embedded development config runs' }),
    set: Flags.string({ description: 'override a key (key=value), after the file and DOCKER_VERNEMQ_* variables', multiple: true }),
    'ports-file': Flags.string({ description: 'once every listener is bound and the node is ready, write their bound addresses to this file (JSON, replaced atomically; removed at a clean stop): how to learn the ports of listeners configured with port 0' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Start)
    const config = this.load(flags.config, flags.set ?? [])
    // the broker is loaded here, not with the command list every CLI call reads
    const { isWorker, runWorker } = await import('../broker/workers/worker.js')
    const { workerCount } = await import('../broker/workers/primary.js')
    if (isWorker()) {
      await runWorker(config)
      return
    }
    const portsFile = flags['ports-file']
    const workers = workerCount(config, availableParallelism())
    if (workers > 1) {
      await runWorkers(config, workers, portsFile)
      return
    }
    const { BrokerNode } = await import('../broker/node.js')
    let node: BrokerNode
    try {
      node = await BrokerNode.start(config)
    } catch (err) {
      throw new CliError(`Error: cannot start the node: ${(err as Error).message}`)
    }
    process.stdout.write(`node ${node.name} started (config: ${config.source})\n`)
    for (const l of node.listenerInfo()) process.stdout.write(`listener ${l.kind} ${l.name} on ${l.address}\n`)
    if (portsFile !== undefined) {
      try {
        writePortsFile(portsFile, node.name, node.listenerInfo())
      } catch (err) {
        await node.stop()
        throw new CliError(`Error: cannot start the node: ${(err as Error).message}`)
      }
    }
    await Promise.race([waitForStopSignal(), node.stopped()])
    await node.stop()
    if (portsFile !== undefined) removePortsFile(portsFile)
  }

  private load (file: string | undefined, sets: string[]): ReturnType<typeof loadConfig> {
    try {
      return loadConfig({ file, sets, env: process.env })
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(`Error: invalid configuration:\n${err.message}`)
      throw err
    }
  }
}

async function runWorkers (config: ReturnType<typeof loadConfig>, count: number, portsFile: string | undefined): Promise<void> {
  const { Primary } = await import('../broker/workers/primary.js')
  const primary = new Primary(config, count, process.argv, {
    line: text => { process.stdout.write(text + '\n') },
    error: text => { process.stderr.write(text + '\n') }
  })
  try {
    const first = await primary.start()
    if (portsFile !== undefined) writePortsFile(portsFile, first.name, first.listeners)
  } catch (err) {
    await primary.stop()
    throw new CliError(`Error: cannot start the node: ${(err as Error).message}`)
  }
  await waitForStopSignal()
  await primary.stop()
  if (portsFile !== undefined) removePortsFile(portsFile)
}

async function waitForStopSignal (): Promise<void> {
  await new Promise<void>(resolve => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
