import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bearerMatches, isLoopback, resolveApiToken, rotateTokenFile, TOKEN_FILE } from '../../src/api/token.ts'
import { isTideError } from '../../src/errors.ts'

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tide-token-'))
  t.after(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

test('without the env var a token is made once, kept with mode 0600, and read back at the next start', (t) => {
  const dir = tempDir(t)
  const first = resolveApiToken({ env: {}, tokenEnv: 'TIDE_API_TOKEN', stateDir: dir })
  const path = join(dir, TOKEN_FILE)
  assert.deepEqual(first.source, { kind: 'file', path, created: true })
  assert.match(first.token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  assert.equal(statSync(path).mode & 0o777, 0o600)
  const second = resolveApiToken({ env: {}, tokenEnv: 'TIDE_API_TOKEN', stateDir: dir })
  assert.equal(second.token, first.token)
  assert.deepEqual(second.source, { kind: 'file', path, created: false })
})

test('the env var named by api.tokenEnv wins over the file; an empty one does not count', (t) => {
  const dir = tempDir(t)
  assert.deepEqual(resolveApiToken({ env: { MY_TOKEN: ' s3cret ' }, tokenEnv: 'MY_TOKEN', stateDir: dir }), { token: 's3cret', source: { kind: 'env', name: 'MY_TOKEN' } })
  assert.equal(resolveApiToken({ env: { MY_TOKEN: '' }, tokenEnv: 'MY_TOKEN', stateDir: dir }).source.kind, 'file')
})

test('a token file readable by others is made 0600 again; an empty one is an error naming it', (t) => {
  const dir = tempDir(t)
  const path = join(dir, TOKEN_FILE)
  writeFileSync(path, 'abc\n')
  chmodSync(path, 0o644)
  assert.equal(resolveApiToken({ env: {}, tokenEnv: 'T', stateDir: dir }).token, 'abc')
  assert.equal(statSync(path).mode & 0o777, 0o600)
  writeFileSync(path, '\n')
  assert.throws(
    () => resolveApiToken({ env: {}, tokenEnv: 'T', stateDir: dir }),
    (err: unknown) => isTideError(err, 'TIDE_ERR_FILE') && err.message.includes(path) && err.message.includes('empty'),
  )
  assert.equal(readFileSync(path, 'utf8'), '\n', 'an existing file is never overwritten')
})

test('a state directory that does not exist is a file error naming the token file', () => {
  assert.throws(() => resolveApiToken({ env: {}, tokenEnv: 'T', stateDir: '/nonexistent/tide-state' }), (err: unknown) => isTideError(err, 'TIDE_ERR_FILE') && err.message.includes('/nonexistent/tide-state/api-token'))
})

const bearerCases = [
  { name: 'the token', header: 'Bearer abc123', want: true },
  { name: 'the scheme in any case, spaces around', header: 'bearer   abc123 ', want: true },
  { name: 'another token', header: 'Bearer abc124', want: false },
  { name: 'a prefix of the token', header: 'Bearer abc', want: false },
  { name: 'the token and more', header: 'Bearer abc1234', want: false },
  { name: 'another scheme', header: 'Basic abc123', want: false },
  { name: 'no token after the scheme', header: 'Bearer ', want: false },
  { name: 'two tokens', header: 'Bearer abc123 abc123', want: false },
  { name: 'no header', header: undefined, want: false },
] as const
for (const c of bearerCases) {
  test(`bearerMatches: ${c.name} → ${c.want}`, () => {
    assert.equal(bearerMatches(c.header, 'abc123'), c.want)
  })
}

const loopbackCases = [
  { address: '127.0.0.1', want: true },
  { address: '127.1.2.3', want: true },
  { address: '::1', want: true },
  { address: '::ffff:127.0.0.1', want: true },
  { address: '10.0.0.1', want: false },
  { address: '::ffff:10.0.0.1', want: false },
  { address: '128.0.0.1', want: false },
  { address: '127.0.0.1.evil', want: false },
  { address: undefined, want: false },
] as const
for (const c of loopbackCases) {
  test(`isLoopback(${String(c.address)}) → ${c.want}`, () => {
    assert.equal(isLoopback(c.address), c.want)
  })
}

test('rotateTokenFile: a new token replaces the file whole, mode 0600, no temporary file left; a folder that is gone is a FileError', (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'api-token')
  writeFileSync(path, 'old-token\n', { mode: 0o644 })
  const token = rotateTokenFile(path)
  assert.match(token, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(readFileSync(path, 'utf8'), `${token}\n`)
  assert.equal(statSync(path).mode & 0o777, 0o600)
  assert.deepEqual(readdirSync(dir), ['api-token'])
  assert.notEqual(rotateTokenFile(path), token, 'each rotation makes a new one')
  assert.throws(() => rotateTokenFile(join(dir, 'gone', 'api-token')), (err: unknown) => isTideError(err, 'TIDE_ERR_FILE'))
})
