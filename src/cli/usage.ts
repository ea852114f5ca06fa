// The USAGE line of a command that takes VerneMQ's `key=value` arguments:
// oclif's generated line shows flags and declared args only, and these
// commands parse their arguments themselves (kv-args.ts), so the line is
// written here: `<command> key=<value>... [flags as oclif shows them]`.

interface FlagLike { type: 'boolean' | 'option', char?: string, options?: readonly string[], hidden?: boolean }

export function kvUsage (args: string, flags: Readonly<Record<string, FlagLike>>): string {
  return ['<%= command.id %>', args, ...Object.entries(flags).filter(([, f]) => f.hidden !== true).map(([name, f]) => flagUsage(name, f))].join(' ')
}

function flagUsage (name: string, flag: FlagLike): string {
  const spelled = flag.char === undefined ? `--${name}` : `-${flag.char}`
  if (flag.type === 'boolean') return `[${spelled}]`
  return `[${spelled} ${flag.options === undefined ? '<value>' : flag.options.join('|')}]`
}
