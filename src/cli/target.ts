// Which node an admin command talks to, and with which cookie: --node, else
// VMQ_NODE, else the clustering listener of -c FILE, else 127.0.0.1:44053.
import { Flags } from '@oclif/core'
import { loadConfig } from '../config/load.js'
import { ConfigError } from '../config/parse.js'
import { CliError, EXIT_UNREACHABLE, EXIT_USAGE } from './errors.js'
import { AdminClient, RpcFailure } from '../rpc/client.js'

export const DEFAULT_NODE = '127.0.0.1:44053'
export const DEFAULT_COOKIE = 'vmq'

export const targetFlags = targetFlagsWithout()

/** The target flags, leaving the short names a VerneMQ command uses for its own flags (e.g. -c = --cleanup) to that command. */
// (return type inferred: oclif derives the parsed flag types from it)
export function targetFlagsWithout (...taken: Array<'n' | 'c'>) {
  const n = taken.includes('n') ? undefined : 'n' as const
  const c = taken.includes('c') ? undefined : 'c' as const
  return {
    node: Flags.string({ char: n, description: 'node to talk to, as host:port of its clustering listener (env VMQ_NODE)' }),
    config: Flags.string({ char: c, description: 'vernemq.conf of the node: its clustering listener and cookie are used' }),
    cookie: Flags.string({ description: 'distributed_cookie of the node (env VMQ_COOKIE)' })
  }
}

export interface Target { address: string, cookie: string }

export function resolveTarget (flags: { node?: string, config?: string, cookie?: string }, env: NodeJS.ProcessEnv = process.env): Target {
  const fromFile = flags.config === undefined ? undefined : fromConfigFile(flags.config, env)
  const address = flags.node ?? env.VMQ_NODE ?? fromFile?.address ?? DEFAULT_NODE
  if (!looksLikeAddress(address)) {
    throw new CliError(`Invalid --node "${address}": expected host:port`, EXIT_USAGE)
  }
  return { address, cookie: flags.cookie ?? env.VMQ_COOKIE ?? fromFile?.cookie ?? DEFAULT_COOKIE }
}

/** host:port or [ipv6]:port, as --node takes it. */
export function looksLikeAddress (text: string): boolean {
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(text)
}

function fromConfigFile (file: string, env: NodeJS.ProcessEnv): Target {
  try {
    const config = loadConfig({ file, env })
    const clustering = config.listeners.find(l => l.type === 'vmq')
    const host = clustering === undefined ? '127.0.0.1' : clustering.host === '0.0.0.0' ? '127.0.0.1' : clustering.host
    return { address: `${host}:${clustering?.port ?? 44053}`, cookie: String(config.values.get('distributed_cookie')) }
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT_USAGE)
    throw err
  }
}

function exitCodeOf (err: RpcFailure): number {
  return err.kind === 'invalid' || err.kind === 'not_found' ? EXIT_USAGE : EXIT_UNREACHABLE
}

/** Runs one server-streaming call against the target node. */
export async function streamNode<Req, Res> (target: Target, method: Parameters<AdminClient['call']>[0], request: Req, deadlineMs: number, onReply: (reply: Res) => void): Promise<void> {
  const client = new AdminClient(target.address, target.cookie)
  try {
    await client.stream<Req, Res>(method, request, deadlineMs, onReply)
  } catch (err) {
    if (err instanceof RpcFailure) throw new CliError(err.message, exitCodeOf(err))
    throw err
  } finally {
    client.close()
  }
}

/** Runs one call against the target node, mapping failures onto exit codes. */
export async function callNode<Req, Res> (target: Target, method: Parameters<AdminClient['call']>[0], request: Req): Promise<Res> {
  const client = new AdminClient(target.address, target.cookie)
  try {
    return await client.call<Req, Res>(method, request)
  } catch (err) {
    if (err instanceof RpcFailure) throw new CliError(err.message, exitCodeOf(err))
    throw err
  } finally {
    client.close()
  }
}
