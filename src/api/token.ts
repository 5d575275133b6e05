/**
 * The API's bearer token: where it comes from, and the constant-time check of a request's.
 * The token is taken from the environment variable that `api.tokenEnv` names; without one, it
 * is generated at first start (32 random bytes, base64url) and kept in `<state dir>/api-token`
 * with mode 0600, so it survives restarts and only the owner can read it. The token itself is
 * never printed or logged: callers say where it is.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { FileError } from '../errors.ts'

/** The name of the token file in the state directory. */
export const TOKEN_FILE = 'api-token'

/** Where the token in force came from (what `tide up` prints instead of the token). */
export type TokenSource = { readonly kind: 'env'; readonly name: string } | { readonly kind: 'file'; readonly path: string; readonly created: boolean }

/** The token in force and where it came from. */
export interface ApiToken {
  readonly token: string
  readonly source: TokenSource
}

/**
 * The token from `env[tokenEnv]` when set and not empty, else the one in the state directory's
 * token file, created (mode 0600) when there is none. An existing file readable by others is
 * made 0600 again. Throws FileError when the file cannot be read or written, and for a file
 * that is empty.
 */
export function resolveApiToken(opts: { readonly env: NodeJS.ProcessEnv; readonly tokenEnv: string; readonly stateDir: string }): ApiToken {
  const fromEnv = opts.env[opts.tokenEnv]
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { token: fromEnv.trim(), source: { kind: 'env', name: opts.tokenEnv } }
  const path = join(opts.stateDir, TOKEN_FILE)
  try {
    // 'wx': fails when the file exists, so two starts never overwrite each other's token.
    const token = randomBytes(32).toString('base64url')
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' })
    return { token, source: { kind: 'file', path, created: true } }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileError(path, 'write', err)
  }
  let token: string
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
    token = readFileSync(path, 'utf8').trim()
  } catch (err) {
    throw new FileError(path, 'read', err)
  }
  if (token === '') throw new FileError(path, 'read', new Error('the token file is empty (delete it and a new token is made at the next start)'))
  return { token, source: { kind: 'file', path, created: false } }
}

/**
 * Replaces the token in the file at `path` with a new one (32 random bytes, base64url) and
 * returns it: written to a temporary file beside it with mode 0600, then renamed over it, so a
 * reader sees the old token or the new one, never a half-written file, and the file is never
 * readable by others. Throws FileError when it cannot be written (the old file is left as it was).
 */
export function rotateTokenFile(path: string): string {
  const token = randomBytes(32).toString('base64url')
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    writeFileSync(temp, `${token}\n`, { mode: 0o600, flag: 'wx' })
    renameSync(temp, path)
  } catch (err) {
    rmSync(temp, { force: true })
    throw new FileError(path, 'write', err)
  }
  return token
}

/**
 * Whether an `Authorization` header carries `token` as a bearer token. Both sides are hashed
 * (SHA-256) first so that timingSafeEqual compares equal lengths: the time taken says nothing
 * about how much of the token matched, nor its length.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  const given = m?.[1]
  if (given === undefined) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b)
}

/** Whether a remote address is this machine's loopback (127.0.0.0/8, ::1, or 127.x mapped into IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  if (address === '::1') return true
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}
