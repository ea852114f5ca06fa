// A log file with VerneMQ's rotation keys (log.<handler>.rotation.size, .keep,
// .compress_on_rotate): past `size` bytes the file becomes <file>.0 (gzipped
// to <file>.0.gz when asked), older ones move up to <file>.<keep-1>, and the
// oldest goes. reopen() starts writing to the path again, for logrotate's
// "move, then SIGHUP" (the node reopens its files on SIGHUP).
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

export interface Rotation {
  /** bytes; Infinity = never rotate */
  size: number
  /** rotated files kept; 0 = the file is emptied instead */
  keep: number
  compress: boolean
}

export class LogFile {
  private fd: number
  private size: number

  constructor (readonly path: string, private readonly rotation: Rotation) {
    this.fd = openSync(path, 'a')
    this.size = fstatSync(this.fd).size
  }

  write (line: string): void {
    const bytes = Buffer.byteLength(line)
    try {
      if (this.size > 0 && this.size + bytes > this.rotation.size) this.rotate()
      writeSync(this.fd, line)
      this.size += bytes
    } catch {
      // a full disk or a removed directory loses log lines, never the node
    }
  }

  /** Writes to the path again (it may have been moved away). */
  reopen (): void {
    closeSync(this.fd)
    this.fd = openSync(this.path, 'a')
    this.size = fstatSync(this.fd).size
  }

  private rotate (): void {
    closeSync(this.fd)
    const { keep, compress } = this.rotation
    const suffix = compress ? '.gz' : ''
    rmSync(`${this.path}.${keep - 1}${suffix}`, { force: true })
    for (let i = keep - 2; i >= 0; i--) {
      const from = `${this.path}.${i}${suffix}`
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}${suffix}`)
    }
    if (keep > 0) {
      if (compress) {
        writeFileSync(`${this.path}.0.gz`, gzipSync(readFileSync(this.path)))
        rmSync(this.path)
      } else {
        renameSync(this.path, `${this.path}.0`)
      }
    }
    this.fd = openSync(this.path, 'w')
    this.size = 0
  }
}
