import { CliError } from './errors.js'

/** VerneMQ-style `key=value` arguments (no dashes). */
export function kvArgs (argv: string[], allowed: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const arg of argv) {
    const eq = arg.indexOf('=')
    const key = eq > 0 ? arg.slice(0, eq) : ''
    if (!allowed.includes(key)) throw new CliError(`Invalid argument "${arg}": expected ${allowed.map(k => `${k}=<value>`).join(' ')}`)
    out[key] = arg.slice(eq + 1)
  }
  return out
}
