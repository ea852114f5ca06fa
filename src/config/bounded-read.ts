// Reads a file the node must take in whole (config, password, ACL) without
// trusting it: a device, a FIFO or a directory is refused before it is opened
// (/dev/zero would be read forever), and a file past `maxBytes` is refused.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { open, stat } from 'node:fs/promises'

export class FileRefused extends Error {}

export const MAX_CONFIG_BYTES = 1024 * 1024

/** Password and ACL files: 100,000 users of ~120 bytes fit with room to spare. */
export const MAX_TABLE_BYTES = 256 * 1024 * 1024

export function readBoundedSync (file: string, maxBytes: number): Buffer {
  checkKind(statSync(file))
  const fd = openSync(file, 'r')
  try {
    checkKind(fstatSync(fd))
    const buffer = Buffer.alloc(Math.min(fstatSync(fd).size, maxBytes) + 1)
    let length = 0
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null)
    return checkSize(buffer.subarray(0, length), maxBytes)
  } finally {
    closeSync(fd)
  }
}

export async function readBounded (file: string, maxBytes: number): Promise<Buffer> {
  checkKind(await stat(file))
  const handle = await open(file, 'r')
  try {
    const info = await handle.stat()
    checkKind(info)
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1)
    let length = 0
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = (await handle.read(buffer, length, buffer.length - length, null)).bytesRead
    return checkSize(buffer.subarray(0, length), maxBytes)
  } finally {
    await handle.close()
  }
}

function checkKind (info: { isFile: () => boolean, isDirectory: () => boolean }): void {
  if (!info.isFile()) throw new FileRefused(info.isDirectory() ? 'it is a directory' : 'not a regular file')
}

function checkSize (data: Buffer, maxBytes: number): Buffer {
  if (data.length > maxBytes) throw new FileRefused(`larger than ${describeBytes(maxBytes)}`)
  return data
}

function describeBytes (n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MB` : `${n} bytes`
}
