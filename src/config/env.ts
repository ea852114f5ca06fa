// DOCKER_VERNEMQ_* environment overrides, mapped the way VerneMQ's Docker image
// does it: strip the prefix, lowercase the key, every `__` becomes `.`.
import type { Entry } from './parse.js'

const PREFIX = 'DOCKER_VERNEMQ_'
/** Variables the image handles itself rather than as config lines. */
const SPECIAL = ['DISCOVERY_NODE', 'KUBERNETES', 'SWARM', 'COMPOSE', 'DOCKER_VERNEMQ_USER']

export function envEntries (env: NodeJS.ProcessEnv): Entry[] {
  const entries: Entry[] = []
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || value === undefined) continue
    if (name === PREFIX + 'DISCOVERY_NODE') {
      entries.push({ key: 'discovery_node', value, file: 'environment DOCKER_VERNEMQ_DISCOVERY_NODE', line: 0 })
      continue
    }
    if (SPECIAL.some(word => name.includes(word))) continue
    entries.push({ ...mapLine(name, value), file: `environment ${name}`, line: 0 })
  }
  return entries
}

function mapLine (name: string, value: string): { key: string, value: string } {
  const rest = name.slice(PREFIX.length)
  const lead = /^[A-Z0-9_]*/.exec(rest)?.[0] ?? ''
  const line = (lead.toLowerCase() + rest.slice(lead.length) + '=' + value).replaceAll('__', '.')
  const eq = line.indexOf('=')
  let key = line.slice(0, eq)
  let mapped = line.slice(eq + 1)
  // The image turns DOCKER_VERNEMQ_NODENAME=<host> into the node name VerneMQ@<host>.
  if (key === 'nodename' && !mapped.includes('@')) mapped = 'VerneMQ@' + mapped
  if (key === '') key = name
  return { key, value: mapped }
}
