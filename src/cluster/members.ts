// The cluster's member list as this node knows it, kept in the data dir so a
// restarted node finds its cluster again by itself.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Member } from '../rpc/generated/vmq/Member.js'

export interface MemberRecord { name: string, address: string }

export class MemberStore {
  private readonly file: string

  constructor (dataDir: string) {
    this.file = join(dataDir, 'cluster', 'members.json')
  }

  load (): MemberRecord[] {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch {
      return []
    }
    try {
      const parsed = JSON.parse(text) as unknown
      if (!Array.isArray(parsed)) throw new Error('not a list')
      return parsed.filter((m): m is MemberRecord => typeof m?.name === 'string' && typeof m?.address === 'string')
    } catch (err) {
      throw new Error(`${this.file}: cannot read the cluster member list: ${(err as Error).message}`)
    }
  }

  save (members: Iterable<Member | MemberRecord>): void {
    mkdirSync(dirname(this.file), { recursive: true })
    const list = [...members].map(m => ({ name: m.name ?? '', address: m.address ?? '' }))
    const tmp = this.file + '.tmp'
    writeFileSync(tmp, JSON.stringify(list, null, 2) + '\n')
    renameSync(tmp, this.file)
  }
}
