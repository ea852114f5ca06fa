// Splits the bytes written to a connection into MQTT packets, so the head of
// some packets can be rewritten on the way out: the rest of each packet (a
// PUBLISH payload) passes without being copied. Used for outgoing topic
// aliases and for SUBACK reason codes aedes cannot be told.
import { readVarint } from '../../mqtt/property-scan.js'

export interface HeadRewriter {
  /**
   * How many bytes at the start of the packet `rewrite` needs (0: the packet
   * passes unchanged), or undefined until more of it has arrived. `type` is the
   * packet type, `total` the packet's whole length.
   */
  headLength: (bytes: Buffer, type: number, fixedHeader: number, total: number) => number | undefined
  /** The bytes to send instead of the head (the packet's remaining length fixed up by the caller's encoding). */
  rewrite: (head: Buffer, total: number) => Buffer
}

export class PacketStream {
  private pending: Buffer | undefined
  /** bytes of the current packet still to be passed on unchanged */
  private passing = 0

  constructor (private readonly rewriter: HeadRewriter) {}

  /** Between packets: nothing held back, nothing of a packet still to pass. */
  get idle (): boolean {
    return this.pending === undefined && this.passing === 0
  }

  /** The bytes to write for `chunk`; a packet's head is held back until it is whole. */
  write (chunk: Buffer): Buffer[] {
    const out: Buffer[] = []
    let rest: Buffer = chunk
    while (rest.length > 0) {
      if (this.passing > 0) {
        const n = Math.min(this.passing, rest.length)
        out.push(n === rest.length ? rest : rest.subarray(0, n))
        this.passing -= n
        rest = rest.subarray(n)
        continue
      }
      const buffered: Buffer = this.pending === undefined ? rest : Buffer.concat([this.pending, rest])
      const decided = this.decide(buffered)
      if (decided === undefined) {
        this.pending = buffered
        break
      }
      this.pending = undefined
      if (decided.head.length > 0) out.push(decided.head)
      this.passing = decided.passing
      rest = buffered.subarray(decided.used)
    }
    return out
  }

  private decide (bytes: Buffer): { head: Buffer, used: number, passing: number } | undefined {
    const length = readVarint(bytes, 1)
    if (length === undefined) return undefined
    const total = length.next + length.value
    const wanted = this.rewriter.headLength(bytes, bytes[0] >> 4, length.next, total)
    if (wanted === undefined || bytes.length < wanted) return undefined
    if (wanted === 0) {
      const used = Math.min(total, bytes.length)
      return { head: bytes.subarray(0, used), used, passing: total - used }
    }
    return { head: this.rewriter.rewrite(bytes.subarray(0, wanted), total), used: wanted, passing: total - wanted }
  }
}

export function varintSize (value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4
}

export function writeVarint (out: Buffer, at: number, value: number): number {
  let left = value
  for (;;) {
    const digit = left % 0x80
    left = Math.floor(left / 0x80)
    out[at++] = left > 0 ? digit | 0x80 : digit
    if (left === 0) return at
  }
}
