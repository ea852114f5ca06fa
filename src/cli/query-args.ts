// Arguments of the query commands (session show, retain show), parsed by hand
// because VerneMQ's field flags take an optional value: `--user` adds the
// column, `--user=bob` filters. Also accepted: --limit, --rowtimeout (ignored;
// rows are not timed out here), --format, and the target flags. `--node` is
// both VerneMQ's field and our target flag: a host:port value (`--node=h:p`,
// `--node h:p`) names the node to ask, anything else is the field.
import { Flags } from '@oclif/core'
import { CliError } from './errors.js'
import { looksLikeAddress, type TargetFlags } from './target.js'

export interface QueryArgs {
  fields: string[]
  filters: Array<{ field: string, value: string }>
  limit: number | undefined
  format: 'human' | 'json'
  target: TargetFlags
}

/** Flags shown by `--help`; the command itself parses with parseQueryArgs. */
export function queryHelpFlags (fields: Readonly<Record<string, string>>): Record<string, ReturnType<typeof Flags.boolean>> {
  const flags: Record<string, ReturnType<typeof Flags.boolean>> = {}
  for (const [name, description] of Object.entries(fields)) flags[name] = Flags.boolean({ description: `${description}. --${name}=<value> filters` })
  flags.limit = Flags.boolean({ description: 'at most this many rows, --limit=<n> (default 100)' })
  flags.rowtimeout = Flags.boolean({ description: 'accepted for compatibility, --rowtimeout=<ms> (ignored)' })
  flags.format = Flags.boolean({ description: 'output format, --format=human|json' })
  flags.config = Flags.boolean({ char: 'c', description: 'vernemq.conf of the node to ask, -c <file>' })
  flags.cookie = Flags.boolean({ description: 'distributed_cookie of the node, --cookie=<cookie> (env VMQ_COOKIE)' })
  flags.secure = Flags.boolean({ description: 'talk TLS to the node (a vmqs listener)' })
  for (const name of ['tls-cafile', 'tls-certfile', 'tls-keyfile'] as const) flags[name] = Flags.boolean({ description: `TLS to the node, --${name}=<file> (as for the other admin commands)` })
  return flags
}

export function parseQueryArgs (argv: readonly string[]): QueryArgs {
  const out: QueryArgs = { fields: [], filters: [], limit: undefined, format: 'human', target: {} }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    const next = (): string => {
      const value = argv[++i]
      if (value === undefined) throw new CliError(`Flag ${token} expects a value`)
      return value
    }
    if (token === '-n') { out.target.node = next(); continue }
    if (token === '-c') { out.target.config = next(); continue }
    const m = /^--([A-Za-z0-9_-]+)(?:=(.*))?$/s.exec(token)
    if (m === null) throw new CliError(`Unexpected argument "${token}": fields are given as --<field> or --<field>=<value>`)
    const [, name, attached] = m
    switch (name) {
      case 'limit': out.limit = positiveInt(name, attached ?? next()); break
      case 'rowtimeout': positiveInt(name, attached ?? next()); break
      case 'format': out.format = format(attached ?? next()); break
      case 'config': out.target.config = attached ?? next(); break
      case 'cookie': out.target.cookie = attached ?? next(); break
      case 'secure': out.target.secure = true; break
      case 'tls-cafile':
      case 'tls-certfile':
      case 'tls-keyfile': out.target[name] = attached ?? next(); break
      case 'node':
        if (attached !== undefined && looksLikeAddress(attached)) out.target.node = attached
        else if (attached !== undefined) out.filters.push({ field: name, value: attached })
        else if (argv[i + 1] !== undefined && looksLikeAddress(argv[i + 1])) out.target.node = next()
        else out.fields.push(name)
        break
      default:
        if (attached === undefined) out.fields.push(name)
        else out.filters.push({ field: name, value: attached })
    }
  }
  return out
}

function positiveInt (flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new CliError(`Invalid --${flag}=${value}: expected a positive integer`)
  return Number(value)
}

function format (value: string): 'human' | 'json' {
  if (value !== 'human' && value !== 'json') throw new CliError(`Invalid --format=${value}: expected human or json`)
  return value
}
