import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HttpJsonSourceSchema, parseJsonPath } from '../../../src/spec/sources/http-json.ts'

const paths: { path: string; want: readonly (string | number)[] | RegExp }[] = [
  { path: '$.queue.depth', want: ['queue', 'depth'] },
  { path: 'queue.depth', want: ['queue', 'depth'] },
  { path: 'depth', want: ['depth'] },
  { path: '$.queues[0].depth', want: ['queues', 0, 'depth'] },
  { path: "$['queue depth']", want: ['queue depth'] },
  { path: '$["a.b"][2]', want: ['a.b', 2] },
  { path: '$.x-y', want: ['x-y'] },
  { path: '', want: /empty/ },
  { path: '$', want: /names no member/ },
  { path: '$.queue..depth', want: /at "\.\.depth"/ },
  { path: '$.items[*].n', want: /at "\[\*\]\.n"/ },
  { path: '$.items[?(@.n > 1)]', want: /cannot read the JSON path/ },
  { path: 'queue depth', want: /at " depth"/ },
]
for (const c of paths) {
  test(`parseJsonPath(${JSON.stringify(c.path)})`, () => {
    const r = parseJsonPath(c.path)
    if (c.want instanceof RegExp) {
      assert.ok('error' in r, `expected an error, got ${JSON.stringify(r)}`)
      assert.match(r.error, c.want)
    } else assert.deepEqual(r, { steps: c.want })
  })
}

test('the http-json schema: a URL, timeout 5 s by default', () => {
  assert.deepEqual(HttpJsonSourceSchema.parse({ type: 'http-json', url: 'http://127.0.0.1:8080/stats' }), { type: 'http-json', url: 'http://127.0.0.1:8080/stats', timeoutSeconds: 5 })
})

const bad: { name: string; input: unknown; field: string }[] = [
  { name: 'not a URL', input: { type: 'http-json', url: 'stats' }, field: 'url' },
  { name: 'a file URL', input: { type: 'http-json', url: 'file:///etc/passwd' }, field: 'url' },
  { name: 'credentials in the URL', input: { type: 'http-json', url: 'https://me:secret@host/stats' }, field: 'url' },
  { name: 'a zero timeout', input: { type: 'http-json', url: 'http://h/', timeoutSeconds: 0 }, field: 'timeoutSeconds' },
  { name: 'a timeout over 60 s', input: { type: 'http-json', url: 'http://h/', timeoutSeconds: 61 }, field: 'timeoutSeconds' },
  { name: 'an unknown field', input: { type: 'http-json', url: 'http://h/', path: '$.a' }, field: '' },
]
for (const c of bad) {
  test(`the http-json schema refuses ${c.name}`, () => {
    const r = HttpJsonSourceSchema.safeParse(c.input)
    assert.equal(r.success, false)
    assert.equal(r.error.issues[0]?.path.join('.'), c.field)
  })
}
