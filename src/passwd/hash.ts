// Password hashes found in password files:
//   $6$<salt>$<hash>             sha512(password ‖ salt), what vmq-passwd and VerneMQ use
//   $7$<iterations>$<salt>$<hash> PBKDF2-HMAC-SHA512, 64-byte key (mosquitto ≥ 2.0 default)
//   $2a$ / $2b$ / $2y$            bcrypt
// Salts and hashes of $6$/$7$ are standard base64 with padding.
import { shown } from '../config/shown.js'
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { verifyBcrypt } from './bcrypt-verify.js'

const pbkdf2Async = promisify(pbkdf2)

export const SALT_BYTES = 12
const SHA512_BYTES = 64

/** A checked hash; salt and hash stay base64 text (validated), decoded when a password is checked. */
export type ParsedHash =
  | { kind: 'sha512', salt: string, hash: string }
  | { kind: 'pbkdf2-sha512', iterations: number, salt: string, hash: string }
  | { kind: 'bcrypt', text: string }

const BCRYPT_RE = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/
/** base64 of exactly 64 bytes */
const BASE64_64_BYTES_RE = /^[A-Za-z0-9+/]{85}[AQgw]==$/

/** A new `$6$` hash of `password` (random 12-byte salt unless one is given). */
export function hashPassword (password: string | Buffer, salt: Buffer = randomBytes(SALT_BYTES)): string {
  return `$6$${salt.toString('base64')}$${sha512(toBytes(password), salt).toString('base64')}`
}

/** True when `text` starts like one of the hash formats we know (used to leave hashed lines alone). */
export function looksHashed (text: string): boolean {
  return text.startsWith('$6$') || text.startsWith('$7$') || /^\$2[aby]\$/.test(text)
}

/** Parses a stored hash; returns an error message instead when it is not one we can check. */
export function parseHash (text: string): ParsedHash | string {
  if (text.startsWith('$6$')) return parseSha512(text)
  if (text.startsWith('$7$')) return parsePbkdf2(text)
  if (/^\$2[aby]\$/.test(text)) {
    return BCRYPT_RE.test(text) ? { kind: 'bcrypt', text } : 'malformed bcrypt hash'
  }
  if (text === '') return 'empty password hash'
  if (text.startsWith('$')) return `unsupported hash type '${shown(text.split('$')[1] ?? '')}' (expected $6$, $7$ or $2a$/$2b$/$2y$)`
  return 'password is not hashed (run `vmq passwd -U <file>` to hash plain passwords)'
}

/** Checks `password` against a stored hash text; an unparsable hash matches nothing. */
export async function verifyHashText (text: string, password: string | Buffer): Promise<boolean> {
  const stored = parseHash(text)
  return typeof stored !== 'string' && await verifyPassword(stored, password)
}

/** Checks `password` against a parsed hash. bcrypt and PBKDF2 run off the event loop (worker threads, libuv pool). */
export async function verifyPassword (stored: ParsedHash, password: string | Buffer): Promise<boolean> {
  const bytes = toBytes(password)
  switch (stored.kind) {
    case 'sha512':
      return sameBytes(sha512(bytes, fromBase64(stored.salt)), fromBase64(stored.hash))
    case 'pbkdf2-sha512': {
      const key = await pbkdf2Async(bytes, fromBase64(stored.salt), stored.iterations, SHA512_BYTES, 'sha512')
      return sameBytes(key, fromBase64(stored.hash))
    }
    case 'bcrypt':
      return await verifyBcrypt(bytes.toString('utf8'), stored.text)
  }
}

function parseSha512 (text: string): ParsedHash | string {
  const parts = text.split('$')
  if (parts.length !== 4) return `malformed $6$ hash: expected $6$<salt>$<hash>, found ${parts.length - 1} '$'`
  const [, , salt, hash] = parts
  if (!isBase64(salt)) return 'malformed $6$ hash: salt is not base64'
  if (!BASE64_64_BYTES_RE.test(hash)) return 'malformed $6$ hash: hash is not 64 bytes of base64'
  return { kind: 'sha512', salt, hash }
}

function parsePbkdf2 (text: string): ParsedHash | string {
  const parts = text.split('$')
  if (parts.length !== 5) return `malformed $7$ hash: expected $7$<iterations>$<salt>$<hash>, found ${parts.length - 1} '$'`
  const iterations = /^[1-9]\d{0,8}$/.test(parts[2]) ? Number(parts[2]) : NaN
  if (Number.isNaN(iterations)) return `malformed $7$ hash: iterations '${shown(parts[2])}' is not a positive integer`
  const [, , , salt, hash] = parts
  if (!isBase64(salt)) return 'malformed $7$ hash: salt is not base64'
  if (!BASE64_64_BYTES_RE.test(hash)) return 'malformed $7$ hash: hash is not 64 bytes of base64'
  return { kind: 'pbkdf2-sha512', iterations, salt, hash }
}

function sha512 (password: Buffer, salt: Buffer): Buffer {
  return createHash('sha512').update(password).update(salt).digest()
}

function sameBytes (a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

function isBase64 (text: string): boolean {
  return text.length % 4 === 0 && BASE64_RE.test(text)
}

function fromBase64 (text: string): Buffer {
  return Buffer.from(text, 'base64')
}

function toBytes (password: string | Buffer): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : password
}
