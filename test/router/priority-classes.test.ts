import assert from 'node:assert/strict'
import { test } from 'node:test'
import { classIndex, resolveClasses } from '../../src/router/priority-classes.ts'

const configured = [
  { name: 'checkout', pathPrefix: '/checkout', priority: 'high' as const },
  { name: 'browse', priority: 'low' as const },
  { name: 'api', pathPrefix: '/api/', priority: 'normal' as const },
]

const cases = [
  { name: 'prefix match', path: '/checkout/pay', want: 'checkout' },
  { name: 'prefix is a string prefix', path: '/checkouts', want: 'checkout' },
  { name: 'later prefixed class still matches before the catch-all', path: '/api/cart', want: 'api' },
  { name: 'no prefix matches: the configured catch-all', path: '/products?id=1', want: 'browse' },
] as const

const resolved = resolveClasses(configured)
for (const c of cases) {
  test(c.name, () => {
    assert.equal(resolved[classIndex(resolved, c.path)]?.name, c.want)
  })
}

test('without a catch-all class, unmatched requests are normal', () => {
  const r = resolveClasses([{ name: 'checkout', pathPrefix: '/checkout', priority: 'high' }])
  assert.deepEqual(r[classIndex(r, '/')], { name: 'normal', priority: 'normal', pathPrefix: undefined })
})

test('no classes at all: everything is normal', () => {
  const r = resolveClasses([])
  assert.equal(r.length, 1)
  assert.equal(r[classIndex(r, '/checkout')]?.name, 'normal')
})
