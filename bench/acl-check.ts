// Micro-benchmark of vmq_acl checks (they run on every PUBLISH): the plugin's
// indexed rules against a plain scan of every rule, on a few ACL shapes.
// Usage: npm run build && node dist/bench/acl-check.js
// Prints one JSON line per scenario: nanoseconds per check, both ways.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AclPlugin } from '../src/broker/auth/acl-plugin.js'
import { parseAcl, type AclRules } from '../src/broker/auth/acl-file.js'
import { aclMatchTopic } from '../src/broker/auth/topic.js'
import type { ClientInfo } from '../src/broker/auth/types.js'

const USERS = 2000
const CHECKS = 1_000_000

function bigAcl (): string {
  const lines: string[] = []
  for (let i = 0; i < 20; i++) lines.push(`topic read public/${i}/#`)
  for (let u = 0; u < USERS; u++) {
    lines.push(`user user${u}`)
    for (let r = 0; r < 5; r++) lines.push(`topic write home/user${u}/room${r}/+`)
  }
  lines.push('pattern read users/%u/inbox/#', 'pattern read %m/%c/cmd', 'pattern write devices/%c/#')
  return lines.join('\n') + '\n'
}

function wideAllSection (): string {
  const lines: string[] = []
  for (let i = 0; i < 200; i++) lines.push(`topic site/${i}/+/data`)
  return lines.join('\n') + '\n'
}

interface Scenario {
  name: string
  acl: string
  /** the i-th publish: who publishes to what */
  check: (i: number) => [ClientInfo, string]
}

// Built the way mqtt-packet builds them: decoded from a buffer (flat strings).
const flat = (s: string): string => Buffer.from(s).toString()
const clients: ClientInfo[] = Array.from({ length: USERS }, (_, u) => ({ clientId: flat(`dev${u}`), username: flat(`user${u}`), mountpoint: '' }))
const big = bigAcl()

const scenarios: Scenario[] = [
  { name: 'topic # (default.acl)', acl: 'topic #\n', check: i => [clients[i % USERS], `devices/dev${i % USERS}/t`] },
  { name: '200-rule all section, last rule matches', acl: wideAllSection(), check: i => [clients[i % USERS], `site/199/dev${i % USERS}/data`] },
  { name: '2000 users x 5 rules, user rule matches', acl: big, check: i => [clients[i % USERS], `home/user${i % USERS}/room${i % 5}/temp`] },
  { name: '2000 users x 5 rules, pattern matches', acl: big, check: i => [clients[i % USERS], `devices/dev${i % USERS}/telemetry`] },
  { name: '2000 users x 5 rules, denied', acl: big, check: i => [clients[i % USERS], `other/dev${i % USERS}`] }
]

type Check = (client: ClientInfo, topic: string) => boolean

/** The decision procedure as a scan over every rule, for comparison. */
function linearCheck (acl: AclRules): Check {
  const any = (rules: string[][], topic: string, values?: Parameters<typeof aclMatchTopic>[2]): boolean =>
    rules.some(r => aclMatchTopic(topic, r, values))
  return (client, topic) =>
    any(acl.all.write, topic) ||
    (client.username !== undefined && any(acl.users.get(client.username)?.write ?? [], topic)) ||
    any(acl.patterns.write, topic, { u: client.username, c: client.clientId, m: client.mountpoint })
}

function nsPerCheck (check: Check, inputs: Array<[ClientInfo, string]>): number {
  let allowed = 0
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const [client, topic] = inputs[i % inputs.length]
      if (check(client, topic)) allowed++
    }
  }
  run(CHECKS / 10)
  const t0 = process.hrtime.bigint()
  run(CHECKS)
  const ns = Number(process.hrtime.bigint() - t0) / CHECKS
  if (allowed < 0) throw new Error('unreachable')
  return Math.round(ns)
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmq-acl-bench-'))
  try {
    for (const s of scenarios) {
      const file = join(dir, 'vmq.acl')
      await writeFile(file, s.acl)
      const plugin = new AclPlugin({ file, reloadIntervalSeconds: 0, log: () => {} })
      await plugin.start()
      const inputs = Array.from({ length: 100_000 }, (_, i): [ClientInfo, string] => {
        const [client, topic] = s.check(i)
        return [client, flat(topic)]
      })
      const indexed = nsPerCheck((c, t) => plugin.allows('write', c, t), inputs)
      const linear = nsPerCheck(linearCheck(parseAcl(s.acl, file)), inputs)
      process.stdout.write(JSON.stringify({ scenario: s.name, indexedNs: indexed, linearScanNs: linear }) + '\n')
      plugin.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
