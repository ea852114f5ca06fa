// Which node an admin command talks to, with which cookie and over which
// transport: --node, else VMQ_NODE, else the cluster listener of -c FILE, else
// 127.0.0.1:44053; TLS (a vmqs listener) with --secure or --tls-* files, their
// VMQ_TLS_* variables, or the vmqs listener of -c FILE.
import { Flags } from '@oclif/core'
import { readFileSync } from 'node:fs'
import { clusterListener, loadConfig } from '../config/load.js'
import { ConfigError } from '../config/parse.js'
import { clusterTls } from '../broker/cluster-tls.js'
import { TlsConfigError } from '../broker/listeners/tls-context.js'
import { CliError, EXIT_UNREACHABLE, EXIT_USAGE } from './errors.js'
import type { AdminClient, RpcFailure } from '../rpc/client.js'
import type { ClientTls } from '../rpc/tls.js'

export const DEFAULT_NODE = '127.0.0.1:44053'
export const DEFAULT_COOKIE = 'vmq'

export const targetFlags = targetFlagsWithout()

/** The target flags, leaving -n to a command that uses it for its own flag (plugin enable/disable: -n NAME). */
// (return type inferred: oclif derives the parsed flag types from it)
export function targetFlagsWithout (...taken: Array<'n'>) {
  const n = taken.includes('n') ? undefined : 'n' as const
  return {
    node: Flags.string({ char: n, description: 'node to talk to, as host:port of its clustering listener (env VMQ_NODE)' }),
    config: Flags.string({ char: 'c', description: 'vernemq.conf of the node: its cluster listener (with its TLS files when vmqs) and cookie are used' }),
    cookie: Flags.string({ description: 'distributed_cookie of the node (env VMQ_COOKIE)' }),
    secure: Flags.boolean({ description: 'talk TLS to the node (a vmqs listener); implied by --tls-cafile, --tls-certfile and --tls-keyfile' }),
    'tls-cafile': Flags.string({ description: 'CA certificates (PEM) the node\'s certificate must be signed by (env VMQ_TLS_CAFILE); else the system CAs' }),
    'tls-certfile': Flags.string({ description: 'client certificate (PEM), for a vmqs listener with require_certificate = on (env VMQ_TLS_CERTFILE)' }),
    'tls-keyfile': Flags.string({ description: 'private key (PEM, unencrypted) of --tls-certfile (env VMQ_TLS_KEYFILE)' })
  }
}

export interface Target { address: string, cookie: string, tls?: ClientTls }

export interface TargetFlags {
  node?: string
  config?: string
  cookie?: string
  secure?: boolean
  'tls-cafile'?: string
  'tls-certfile'?: string
  'tls-keyfile'?: string
}

export function resolveTarget (flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const fromFile = flags.config === undefined ? undefined : fromConfigFile(flags.config, env)
  const address = flags.node ?? env.VMQ_NODE ?? fromFile?.address ?? DEFAULT_NODE
  if (flags.config !== undefined && address === fromFile?.address && address.endsWith(':0')) {
    throw new CliError(`${flags.config}: the cluster listener is on port 0 (the node took a free port at start): pass --node host:port as the node printed it, or as its --ports-file says`, EXIT_USAGE)
  }
  if (!looksLikeAddress(address)) {
    throw new CliError(`Invalid --node "${address}": expected host:port`, EXIT_USAGE)
  }
  return { address, cookie: flags.cookie ?? env.VMQ_COOKIE ?? fromFile?.cookie ?? DEFAULT_COOKIE, tls: targetTls(flags, env, fromFile?.tls) }
}

const TLS_FILES = [['ca', 'tls-cafile', 'VMQ_TLS_CAFILE'], ['cert', 'tls-certfile', 'VMQ_TLS_CERTFILE'], ['key', 'tls-keyfile', 'VMQ_TLS_KEYFILE']] as const

/** The TLS to talk with: each file from its flag, else its variable, else the -c file's vmqs listener. */
function targetTls (flags: TargetFlags, env: NodeJS.ProcessEnv, fromFile: ClientTls | undefined): ClientTls | undefined {
  const tls: ClientTls = { ...fromFile }
  let given = flags.secure === true || fromFile !== undefined
  for (const [field, flag, variable] of TLS_FILES) {
    const path = flags[flag] ?? env[variable]
    if (path === undefined || path === '') continue
    tls[field] = readTlsFile(path, flags[flag] === undefined ? variable : `--${flag}`)
    given = true
  }
  if (!given) return undefined
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new CliError('--tls-certfile and --tls-keyfile go together: a client certificate needs its key', EXIT_USAGE)
  }
  return tls
}

function readTlsFile (path: string, source: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message
    throw new CliError(`${source} = ${path}: ${reason}`, EXIT_USAGE)
  }
}

/** host:port or [ipv6]:port, as --node takes it. */
export function looksLikeAddress (text: string): boolean {
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(text)
}

function fromConfigFile (file: string, env: NodeJS.ProcessEnv): Target {
  try {
    const config = loadConfig({ file, env })
    const clustering = clusterListener(config.listeners)
    const host = clustering === undefined ? '127.0.0.1' : clustering.host === '0.0.0.0' ? '127.0.0.1' : clustering.host
    const tls = clustering === undefined ? undefined : clusterTls(clustering)?.client
    return { address: `${host}:${clustering?.port ?? 44053}`, cookie: String(config.values.get('distributed_cookie')), tls }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TlsConfigError) throw new CliError(err.message, EXIT_USAGE)
    throw err
  }
}

/** The one line to print for a failed call. */
function failure (err: RpcFailure, target: Target): CliError {
  const hint = err.kind === 'tls' && target.tls === undefined ? ': pass --tls-cafile (and --tls-certfile/--tls-keyfile) or -c with its vernemq.conf' : ''
  return new CliError(err.message + hint, exitCodeOf(err))
}

function exitCodeOf (err: RpcFailure): number {
  return err.kind === 'invalid' || err.kind === 'not_found' ? EXIT_USAGE : EXIT_UNREACHABLE
}

/** gRPC is loaded only by the commands that call a node (not by --help, passwd or start). */
async function loadClient (): Promise<typeof import('../rpc/client.js')> {
  return await import('../rpc/client.js')
}

/** Runs one server-streaming call against the target node. */
export async function streamNode<Req, Res> (target: Target, method: Parameters<AdminClient['call']>[0], request: Req, deadlineMs: number, onReply: (reply: Res) => void): Promise<void> {
  const { AdminClient, RpcFailure } = await loadClient()
  const client = new AdminClient(target.address, target.cookie, undefined, target.tls)
  try {
    await client.stream<Req, Res>(method, request, deadlineMs, onReply)
  } catch (err) {
    if (err instanceof RpcFailure) throw failure(err, target)
    throw err
  } finally {
    client.close()
  }
}

/** Runs one call against the target node, mapping failures onto exit codes. */
export async function callNode<Req, Res> (target: Target, method: Parameters<AdminClient['call']>[0], request: Req): Promise<Res> {
  const { AdminClient, RpcFailure } = await loadClient()
  const client = new AdminClient(target.address, target.cookie, undefined, target.tls)
  try {
    return await client.call<Req, Res>(method, request)
  } catch (err) {
    if (err instanceof RpcFailure) throw failure(err, target)
    throw err
  } finally {
    client.close()
  }
}

/**
 * Follows a server-streaming call that has no end of its own (trace client):
 * every reply in order until `stop` is called (then it resolves) or the node
 * ends the call (then it fails with the usual line and exit code). While the
 * promise `onReply` may return is pending, no more replies are read, so a slow
 * reader slows the stream down (the node drops and counts what does not fit).
 */
export async function followNode<Req, Res> (target: Target, method: Parameters<AdminClient['call']>[0], request: Req, onReply: (reply: Res) => Promise<void> | undefined, stop: Promise<void>): Promise<void> {
  const { AdminClient } = await loadClient()
  const client = new AdminClient(target.address, target.cookie, undefined, target.tls)
  const call = client.open<Req, Res>(method, request)
  let stopped = false
  void stop.then(() => { stopped = true; call.cancel() })
  try {
    await new Promise<void>((resolve, reject) => {
      call.on('data', (reply: Res) => {
        // a reply handled later (the terminal is slow): read no more until then
        const later = onReply(reply)
        if (later === undefined) return
        call.pause()
        void later.then(() => { call.resume() })
      })
      // a failed call ends with 'error'; one the node closed without failing, with status OK
      call.on('status', (status: { code: number }) => {
        if (status.code !== 0) return
        if (stopped) resolve()
        else reject(new CliError(`Node '${target.address}' ended the call`, EXIT_UNREACHABLE))
      })
      call.on('error', (err: Error & { code?: number, details?: string }) => {
        if (stopped) { resolve(); return }
        client.describe(err as Parameters<AdminClient['describe']>[0]).then(f => { reject(failure(f, target)) }, reject)
      })
    })
  } finally {
    client.close()
  }
}
