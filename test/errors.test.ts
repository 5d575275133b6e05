import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileError, TideError, didYouMean, isTideError } from '../src/errors.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const CODE = /TIDE_ERR_[A-Z0-9_]+/g

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

function codesIn(text: string): Set<string> {
  return new Set(text.match(CODE) ?? [])
}

// As fastify's test/internals/errors.test.js: every code in the source is documented.
test('every TIDE_ERR_* code in src/ is listed in docs/errors.md', () => {
  const documented = codesIn(readFileSync(join(root, 'docs/errors.md'), 'utf8'))
  const missing: string[] = []
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const code of codesIn(readFileSync(file, 'utf8'))) {
      if (!documented.has(code)) missing.push(`${code} (${file.slice(root.length)})`)
    }
  }
  assert.deepEqual(missing, [], 'add these codes to docs/errors.md')
})

test('docs/errors.md lists no code that the source no longer has', () => {
  const used = new Set<string>()
  for (const file of sourceFiles(join(root, 'src'))) for (const code of codesIn(readFileSync(file, 'utf8'))) used.add(code)
  const stale = [...codesIn(readFileSync(join(root, 'docs/errors.md'), 'utf8'))].filter((c) => !used.has(c))
  assert.deepEqual(stale, [])
})

test('TideError keeps its code, name and cause', () => {
  const cause = new Error('root')
  class ExampleError extends TideError {}
  const e = new ExampleError('TIDE_ERR_EXAMPLE', 'it failed', { cause })
  assert.equal(e.code, 'TIDE_ERR_EXAMPLE')
  assert.equal(e.name, 'ExampleError')
  assert.equal(e.cause, cause)
  assert.ok(isTideError(e))
  assert.ok(isTideError(e, 'TIDE_ERR_EXAMPLE'))
  assert.ok(!isTideError(e, 'TIDE_ERR_OTHER'))
})

const isCases = [
  { name: 'a plain Error is not a TideError', err: new Error('x'), want: false },
  { name: 'a string is not a TideError', err: 'TIDE_ERR_CONFIG', want: false },
  { name: 'an Error with a foreign code is not', err: Object.assign(new Error('x'), { code: 'ENOENT' }), want: false },
  { name: 'a TideError from another copy of the module is recognised by shape', err: Object.assign(new Error('x'), { code: 'TIDE_ERR_CONFIG' }), want: true },
] as const
for (const c of isCases) {
  test(`isTideError: ${c.name}`, () => {
    assert.equal(isTideError(c.err), c.want)
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
