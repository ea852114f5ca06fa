import { waitFor, type TestNode } from './processes.js'

/** `cluster show` on a node, as node name -> Running. */
export async function members (node: TestNode): Promise<Record<string, boolean>> {
  const r = await node.admin(['cluster', 'show', '--format=json'])
  if (r.code !== 0) throw new Error(r.stderr)
  return Object.fromEntries((JSON.parse(r.stdout).table as Array<{ Node: string, Running: boolean }>).map(row => [row.Node, row.Running]))
}

export async function waitMembers (node: TestNode, expected: Record<string, boolean>, timeoutMs = 5000): Promise<void> {
  let last: Record<string, boolean> = {}
  await waitFor(async () => {
    last = await members(node)
    return JSON.stringify(Object.entries(last).sort()) === JSON.stringify(Object.entries(expected).sort())
  }, timeoutMs, `cluster show on ${node.nodename} to be ${JSON.stringify(expected)} (last ${JSON.stringify(last)})`)
}
