import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readShopConfig, ShopConfigError } from '../../../examples/shop/config.ts'
import { escapeHtml, formatCents } from '../../../examples/shop/pages.ts'
import { seedCatalog } from '../../../examples/shop/catalog-seed.ts'

test('defaults when nothing is set', () => {
  const c = readShopConfig({})
  assert.deepEqual({ ...c, instanceId: undefined }, { port: 8081, cpu: 1, memoryMiB: 512, dbPath: 'data/shop.db', workMs: 4, shutdownTimeoutMs: 25_000, instanceId: undefined })
  assert.match(c.instanceId, /^shop-\d+$/)
})

test('reads every variable', () => {
  const c = readShopConfig({ PORT: '0', TIDE_CPU: '0.5', TIDE_MEMORY_MIB: '256', SHOP_DB: '/tmp/x.db', SHOP_WORK_MS: '0', SHOP_SHUTDOWN_TIMEOUT_MS: '100', TIDE_INSTANCE_ID: 'i-1' })
  assert.deepEqual(c, { port: 0, cpu: 0.5, memoryMiB: 256, dbPath: '/tmp/x.db', workMs: 0, shutdownTimeoutMs: 100, instanceId: 'i-1' })
})

const bad = [
  { name: 'zero cpu', env: { TIDE_CPU: '0' }, variable: 'TIDE_CPU' },
  { name: 'fractional memory', env: { TIDE_MEMORY_MIB: '1.5' }, variable: 'TIDE_MEMORY_MIB' },
  { name: 'port not a number', env: { PORT: 'http' }, variable: 'PORT' },
  { name: 'infinite work', env: { SHOP_WORK_MS: 'Infinity' }, variable: 'SHOP_WORK_MS' },
] as const
for (const c of bad) {
  test(`refuses ${c.name}, naming ${c.variable}`, () => {
    assert.throws(() => readShopConfig(c.env), (err: unknown) => err instanceof ShopConfigError && err.message.startsWith(`${c.variable}=`))
  })
}

const cents = [
  { cents: 0, want: '0.00' },
  { cents: 5, want: '0.05' },
  { cents: 499, want: '4.99' },
  { cents: 123456, want: '1234.56' },
] as const
for (const c of cents) {
  test(`formatCents(${c.cents}) is ${c.want}`, () => {
    assert.equal(formatCents(c.cents), c.want)
  })
}

test('escapeHtml escapes markup and quotes', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;')
})

test('the seed catalog has 120 products with unique skus and prices from 4.99', () => {
  const products = seedCatalog()
  assert.equal(products.length, 120) // 10 adjectives × 12 nouns
  assert.equal(new Set(products.map((p) => p.sku)).size, 120)
  assert.ok(products.every((p) => p.priceCents >= 499 && p.priceCents <= 19_999 + 499))
})
