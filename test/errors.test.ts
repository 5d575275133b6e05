import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  FileError,
  TideError,
  didYouMean,
  errorInfo,
  errorRegistry,
  httpStatusOf,
  isRetryable,
  isTideError,
  isTideErrorOf,
  type ErrorClass,
  type TideErrorCode,
} from '../src/errors.ts'
import { LaunchFailedError, ProviderConfigError, RegistryError, isProviderError, isRetryableProviderError } from '../src/providers/errors.ts'
import { StoreError, StoreLockedError, isStoreError } from '../src/store/errors.ts'
import { RouterError, isRouterError } from '../src/router/errors.ts'

const docsPath = fileURLToPath(new URL('../docs/errors.md', import.meta.url))
const CLASSES: readonly ErrorClass[] = ['usage', 'config', 'input', 'io', 'provider', 'store', 'router', 'api', 'internal']

/** One documented row: the first four columns of every table row that starts with a `TIDE_ERR_*` code. */
interface DocRow {
  readonly code: string
  readonly class: string
  readonly status: number
  readonly retryable: string
  readonly line: number
}

/** The rows of docs/errors.md's code tables: `| \`CODE\` | class | status | retryable | …`. */
function documentedRows(): DocRow[] {
  const rows: DocRow[] = []
  readFileSync(docsPath, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /^\|\s*`(TIDE_ERR_[A-Z0-9_]+)`\s*\|\s*([a-z]+)\s*\|\s*(\d{3})\s*\|\s*([a-z-]+)\s*\|/.exec(text)
      if (m) rows.push({ code: m[1]!, class: m[2]!, status: Number(m[3]), retryable: m[4]!, line: i + 1 })
      else if (/^\|\s*`TIDE_ERR_/.test(text)) rows.push({ code: `unparsable row: ${text.slice(0, 60)}`, class: '', status: 0, retryable: '', line: i + 1 })
    })
  return rows
}

/** The docs' spelling of a registry retryable flag. */
function retryableText(r: boolean | 'per-error'): string {
  return r === 'per-error' ? 'per-error' : r ? 'yes' : 'no'
}

const registryCodes = Object.keys(errorRegistry) as TideErrorCode[]

// As fastify's test/internals/errors.test.js, both directions, against the registry itself.
test('every registry code is documented in docs/errors.md with its class, HTTP status and retryable flag', () => {
  const byCode = new Map(documentedRows().map((r) => [r.code, r]))
  const wrong: string[] = []
  for (const code of registryCodes) {
    const info = errorRegistry[code]
    const row = byCode.get(code)
    if (!row) wrong.push(`${code}: missing`)
    else if (row.class !== info.class || row.status !== info.status || row.retryable !== retryableText(info.retryable)) {
      wrong.push(`${code} (docs/errors.md:${row.line}): documented ${row.class}/${row.status}/${row.retryable}, registry ${info.class}/${info.status}/${retryableText(info.retryable)}`)
    }
  }
  assert.deepEqual(wrong, [])
})

test('docs/errors.md documents no code that is not in the registry, and each once', () => {
  const rows = documentedRows()
  assert.ok(rows.length > 0, 'no code rows found: is the table layout `| `CODE` | class | status | retryable |`?')
  const stale = rows.filter((r) => errorInfo(r.code) === undefined).map((r) => `${r.code} (line ${r.line})`)
  assert.deepEqual(stale, [])
  const seen = new Set<string>()
  const twice = rows.filter((r) => seen.size === seen.add(r.code).size).map((r) => r.code)
  assert.deepEqual(twice, [])
})

test('every registry entry is well formed: a TIDE_ERR_ code, a known class, an error status, a summary', () => {
  for (const code of registryCodes) {
    const info = errorRegistry[code]
    assert.match(code, /^TIDE_ERR_[A-Z0-9_]+$/)
    assert.ok(CLASSES.includes(info.class), `${code}: class ${info.class}`)
    assert.ok(Number.isInteger(info.status) && info.status >= 400 && info.status <= 599, `${code}: status ${info.status}`)
    assert.ok(info.summary.length > 10, `${code}: summary`)
  }
})

// The router's x-tide-error answers: these statuses are a contract with clients (docs/router.md).
const routerStatuses = [
  ['TIDE_ERR_ROUTER_HEADERS_TOO_LARGE', 431],
  ['TIDE_ERR_ROUTER_BODY_TOO_LARGE', 413],
  ['TIDE_ERR_ROUTER_BAD_REQUEST', 400],
  ['TIDE_ERR_ROUTER_TIMEOUT', 504],
  ['TIDE_ERR_ROUTER_UPSTREAM', 502],
  ['TIDE_ERR_ROUTER_NO_INSTANCE', 503],
  ['TIDE_ERR_ROUTER_SHED', 503],
  ['TIDE_ERR_ROUTER_STOPPING', 503],
  ['TIDE_ERR_ROUTER_LISTEN', 500],
  ['TIDE_ERR_ROUTER_USAGE', 500],
] as const
for (const [code, status] of routerStatuses) {
  test(`RouterError ${code} keeps HTTP ${status}`, () => {
    const e = new RouterError(code, 'm')
    assert.equal(e.status, status)
    assert.equal(httpStatusOf(e), status)
  })
}

test('TideError keeps its code, name and cause, and takes status and retryable from the registry', () => {
  const cause = new Error('root')
  class ExampleError extends TideError {}
  const e = new ExampleError('TIDE_ERR_STORE_LOCKED', 'it failed', { cause })
  assert.equal(e.code, 'TIDE_ERR_STORE_LOCKED')
  assert.equal(e.name, 'ExampleError')
  assert.equal(e.message, 'it failed')
  assert.equal(e.cause, cause)
  assert.equal(e.status, 409)
  assert.equal(e.retryable, true)
  assert.ok(isTideError(e))
  assert.ok(isTideError(e, 'TIDE_ERR_STORE_LOCKED'))
  assert.ok(!isTideError(e, 'TIDE_ERR_STORE_IO'))
  assert.ok(!Object.hasOwn(new TideError('TIDE_ERR_FILE', 'x'), 'cause'), 'no cause given, none invented')
})

test('a retryable option counts only for a per-error code', () => {
  assert.equal(new TideError('TIDE_ERR_PROVIDER_LAUNCH', 'x', { retryable: true }).retryable, true)
  assert.equal(new TideError('TIDE_ERR_PROVIDER_LAUNCH', 'x').retryable, false)
  assert.equal(new TideError('TIDE_ERR_CONFIG', 'x', { retryable: true }).retryable, false)
  assert.equal(new TideError('TIDE_ERR_ROUTER_SHED', 'x', { retryable: false }).retryable, true)
})

/** An error as a second installed copy of tide would make it: right shape, another class. */
function foreign(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error('from another copy'), { code, ...extra })
}

const isCases = [
  { name: 'a plain Error is not a TideError', err: new Error('x'), want: false },
  { name: 'a string is not a TideError', err: 'TIDE_ERR_CONFIG', want: false },
  { name: 'an Error with a foreign code is not', err: foreign('ENOENT'), want: false },
  { name: 'a TideError from another copy of the module is recognised by shape', err: foreign('TIDE_ERR_CONFIG'), want: true },
  { name: 'a code a newer copy added is still a TideError', err: foreign('TIDE_ERR_SOMETHING_NEW'), want: true },
] as const
for (const c of isCases) {
  test(`isTideError: ${c.name}`, () => {
    assert.equal(isTideError(c.err), c.want)
  })
}

// Every folder's is… helper checks the shape the same way: its own instances, and copies from elsewhere.
const areaCases = [
  { name: 'isProviderError', is: isProviderError, own: new RegistryError('local', 'm'), copy: foreign('TIDE_ERR_PROVIDER_LAUNCH'), other: new StoreError('TIDE_ERR_STORE_IO', 'p', 'm') },
  { name: 'isStoreError', is: isStoreError, own: new StoreLockedError('p', 1, 'h'), copy: foreign('TIDE_ERR_STORE_LOCKED'), other: new RouterError('TIDE_ERR_ROUTER_SHED', 'm') },
  { name: 'isRouterError', is: isRouterError, own: new RouterError('TIDE_ERR_ROUTER_SHED', 'm'), copy: foreign('TIDE_ERR_ROUTER_SHED'), other: new ProviderConfigError('local', 'm') },
] as const
for (const c of areaCases) {
  test(`${c.name} recognises its own errors and cross-copy ones by shape, and no other area's`, () => {
    assert.equal(c.is(c.own), true)
    assert.equal(c.is(c.copy), true)
    assert.equal(c.is(c.other), false)
    assert.equal(c.is(new Error('x')), false)
  })
}

test('isTideErrorOf narrows to one code', () => {
  assert.ok(isTideErrorOf(foreign('TIDE_ERR_STORE_IO'), 'TIDE_ERR_STORE_', 'TIDE_ERR_STORE_IO'))
  assert.ok(!isTideErrorOf(foreign('TIDE_ERR_STORE_IO'), 'TIDE_ERR_STORE_', 'TIDE_ERR_STORE_QUERY'))
})

const retryCases = [
  { name: 'a registry-retryable code', err: new RouterError('TIDE_ERR_ROUTER_TIMEOUT', 'm'), want: true, provider: true },
  { name: 'a never-retryable code', err: new ProviderConfigError('local', 'm'), want: false, provider: false },
  { name: 'a launch failure marked retryable (started without a pid)', err: new LaunchFailedError('local', 'm', true), want: true, provider: true },
  { name: 'a launch failure marked not retryable (ENOENT)', err: new LaunchFailedError('local', 'm', false), want: false, provider: false },
  { name: 'a copy without a flag: the registry answers', err: foreign('TIDE_ERR_STORE_LOCKED'), want: true, provider: true },
  { name: 'a copy with its own flag: the flag answers', err: foreign('TIDE_ERR_PROVIDER_LAUNCH', { retryable: false }), want: false, provider: false },
  { name: 'a per-error code from a copy without a flag', err: foreign('TIDE_ERR_PROVIDER_LAUNCH'), want: false, provider: false },
  { name: 'an unknown TIDE code without a flag', err: foreign('TIDE_ERR_SOMETHING_NEW'), want: false, provider: false },
  // The controller's policy: a failure that is not tide's (a bug, a system error) is tried again rather than wedging a group.
  { name: 'a plain Error', err: new Error('capacity unavailable'), want: false, provider: true },
] as const
for (const c of retryCases) {
  test(`isRetryable / isRetryableProviderError: ${c.name}`, () => {
    assert.equal(isRetryable(c.err), c.want)
    assert.equal(isRetryableProviderError(c.err), c.provider)
  })
}

const statusCases = [
  { name: 'a config error is the client’s to fix', err: new TideError('TIDE_ERR_CONFIG', 'm'), want: 400 },
  { name: 'a locked store is a conflict', err: new StoreLockedError('p', 1, 'h'), want: 409 },
  { name: 'a launch failure is the platform’s', err: new LaunchFailedError('local', 'm', true), want: 502 },
  { name: 'a copy is answered by its code', err: foreign('TIDE_ERR_ROUTER_SHED'), want: 503 },
  { name: 'an unknown TIDE code is an internal error', err: foreign('TIDE_ERR_SOMETHING_NEW'), want: 500 },
  { name: 'a bug is an internal error', err: new TypeError('x'), want: 500 },
  { name: 'a thrown string is an internal error', err: 'boom', want: 500 },
] as const
for (const c of statusCases) {
  test(`httpStatusOf: ${c.name}`, () => {
    assert.equal(httpStatusOf(c.err), c.want)
  })
}

test('FileError names the path and the system reason', () => {
  const cause = Object.assign(new Error('no such file'), { code: 'ENOENT' })
  const e = new FileError('a/b.csv', 'read', cause)
  assert.equal(e.message, 'cannot read a/b.csv: ENOENT')
  assert.equal(e.code, 'TIDE_ERR_FILE')
  assert.equal(e.cause, cause)
})

const hintCases = [
  { name: 'one typo', word: 'replcas', want: 'replicas' },
  { name: 'case is ignored', word: 'MinReplicas', want: 'minReplicas' },
  { name: 'too far is no hint', word: 'banana', want: undefined },
  { name: 'short words need to be very close', word: 'ab', want: undefined },
] as const
for (const c of hintCases) {
  test(`didYouMean: ${c.name}`, () => {
    assert.equal(didYouMean(c.word, ['replicas', 'minReplicas', 'max', 'cpu']), c.want)
  })
}
