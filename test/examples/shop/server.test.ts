import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { runShopExpectingExit, startShop } from './shop-process.ts'
import type { ShopProcess } from './shop-process.ts'

const dir = mkdtempSync(join(tmpdir(), 'tide-shop-test-'))
const dbPath = join(dir, 'nested', 'shop.db')
after(() => {
  rmSync(dir, { recursive: true, force: true })
})

const json = { accept: 'application/json' }

/** A client that keeps the session cookie the shop sets; `cookie` reads it back. */
type Session = ((path: string, init?: RequestInit) => Promise<Response>) & { cookie: () => string }

function session(base: string): Session {
  let cookie = ''
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers)
    if (cookie !== '') headers.set('cookie', cookie)
    const res = await fetch(base + path, { ...init, headers, redirect: 'manual' })
    const set = res.headers.get('set-cookie')
    if (set !== null) cookie = set.split(';')[0]!
    return res
  }
  return Object.assign(request, { cookie: () => cookie })
}

async function inFlightReaches(base: string, n: number): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    const body = (await (await fetch(`${base}/drain`)).json()) as { inFlight: number }
    if (body.inFlight === n) return
    await sleep(20)
  }
  assert.fail(`in-flight never reached ${n}`)
}

describe('demo shop: every route on a real process', () => {
  let shop: ShopProcess
  before(async () => {
    shop = await startShop({ SHOP_DB: dbPath, SHOP_WORK_MS: '1', TIDE_CPU: '1.5', TIDE_MEMORY_MIB: '256', TIDE_INSTANCE_ID: 'shop-a' })
  })
  after(async () => {
    await shop.stop()
  })

  test('logs one started line naming its size: ceil(1.5 cpu) = 2 work threads, 120 seeded products', () => {
    assert.equal(shop.lines.length, 1)
    const l = shop.lines[0]!
    assert.equal(l.event, 'started')
    assert.equal(l.workThreads, 2)
    assert.equal(l.cpu, 1.5)
    assert.equal(l.memoryMiB, 256)
    assert.equal(l.products, 120)
    assert.equal(l.instance, 'shop-a')
  })

  test('GET /healthz answers 200 ok', async () => {
    const res = await fetch(`${shop.base}/healthz`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { status: 'ok', instance: 'shop-a', draining: false, inFlight: 0 })
  })

  const pages = [
    { name: 'catalog as HTML', path: '/products', accept: 'text/html', status: 200, has: 'Tidal Backpack' },
    { name: 'root is the catalog', path: '/', accept: 'text/html', status: 200, has: 'page 1 of 6' },
    { name: 'catalog page 2 as JSON', path: '/products?page=2', accept: 'application/json', status: 200, has: '"page":2' },
    { name: 'product page as HTML', path: '/products/3', accept: 'text/html', status: 200, has: 'Tidal Mug' },
    { name: 'product as JSON', path: '/products/3', accept: 'application/json', status: 200, has: '"priceCents":7899' }, // (2×37 mod 200)×100 + 499
    { name: 'unknown product is 404', path: '/products/9999', accept: 'application/json', status: 404, has: 'no product 9999' },
    { name: 'unknown route is 404', path: '/nope', accept: 'application/json', status: 404, has: 'no route' },
    { name: 'empty cart without a session', path: '/cart', accept: 'application/json', status: 200, has: '"totalCents":0' },
    { name: 'order of no session is 404', path: '/orders/1', accept: 'application/json', status: 404, has: 'no order' },
  ] as const
  for (const c of pages) {
    test(`GET ${c.path}: ${c.name}`, async () => {
      const res = await fetch(shop.base + c.path, { headers: { accept: c.accept } })
      assert.equal(res.status, c.status)
      assert.ok((await res.text()).includes(c.has))
    })
  }

  test('a work route answers with the checksum of its cpu work; the same seed gives the same checksum', async () => {
    const a = await fetch(`${shop.base}/products/5`, { headers: json })
    const b = await fetch(`${shop.base}/products/5`, { headers: json })
    assert.match(a.headers.get('x-shop-work') ?? '', /^[0-9a-f]+$/)
    // The iteration count comes from the start-up calibration, identical for both requests.
    assert.equal(a.headers.get('x-shop-work'), b.headers.get('x-shop-work'))
  })

  test('POST on a GET route is 405 with Allow', async () => {
    const res = await fetch(`${shop.base}/products`, { method: 'POST' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET')
  })

  test('cart: add sets a session cookie, adds up, removes a line', async () => {
    const s = session(shop.base)
    const add = await s('/cart/items', { method: 'POST', headers: { ...json, 'content-type': 'application/json' }, body: JSON.stringify({ productId: 3, quantity: 2 }) })
    assert.equal(add.status, 200)
    assert.deepEqual(await add.json(), { items: [{ productId: 3, name: 'Tidal Mug', quantity: 2, priceCents: 7899 }], totalCents: 15798 })
    const form = await s('/cart/items', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'productId=1&quantity=1' })
    assert.equal(form.status, 303)
    assert.equal(form.headers.get('location'), '/cart')
    const html = await (await s('/cart')).text()
    assert.ok(html.includes('Tidal Backpack') && html.includes('Tidal Mug'))
    const removed = await s('/cart/items/3', { method: 'DELETE', headers: json })
    assert.deepEqual(((await removed.json()) as { items: { productId: number }[] }).items.map((i) => i.productId), [1])
  })

  const badAdds = [
    { name: 'not JSON', type: 'application/json', body: '{', status: 400 },
    { name: 'no product id', type: 'application/json', body: '{}', status: 400 },
    { name: 'zero quantity', type: 'application/json', body: '{"productId":1,"quantity":0}', status: 400 },
    { name: 'unknown product', type: 'application/json', body: '{"productId":9999}', status: 404 },
    { name: 'body over 64 KiB', type: 'application/json', body: 'x'.repeat(70 * 1024), status: 413 },
  ] as const
  for (const c of badAdds) {
    test(`POST /cart/items refuses ${c.name} with ${c.status}`, async () => {
      const res = await fetch(`${shop.base}/cart/items`, { method: 'POST', headers: { 'content-type': c.type }, body: c.body })
      assert.equal(res.status, c.status)
    })
  }

  test('checkout writes the order to SQLite, empties the cart, and honours Idempotency-Key', async () => {
    const s = session(shop.base)
    await s('/cart/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: 2, quantity: 3 }) })
    const first = await s('/checkout', { method: 'POST', headers: { ...json, 'idempotency-key': 'order-abc' } })
    assert.equal(first.status, 201)
    const order = (await first.json()) as { id: number; totalCents: number; instance: string }
    assert.equal(order.totalCents, 3 * 4199) // product 2: (1×37 mod 200)×100 + 499 = 4199
    assert.equal(order.instance, 'shop-a')
    assert.equal(first.headers.get('location'), `/orders/${order.id}`)
    const again = await s('/checkout', { method: 'POST', headers: { ...json, 'idempotency-key': 'order-abc' } })
    assert.equal(again.status, 200)
    assert.equal(((await again.json()) as { id: number }).id, order.id)
    const fetched = await s(`/orders/${order.id}`)
    assert.equal(((await fetched.json()) as { totalCents: number }).totalCents, order.totalCents)
    assert.equal((await s('/checkout', { method: 'POST', headers: json })).status, 409, 'the cart is empty now')
    // Another session cannot read the order.
    assert.equal((await session(shop.base)(`/orders/${order.id}`)).status, 404)

    const db = new Database(dbPath, { readonly: true })
    try {
      const rows = db.prepare('SELECT total_cents, idempotency_key FROM orders WHERE id = ?').all(order.id)
      assert.deepEqual(rows, [{ total_cents: 12597, idempotency_key: 'order-abc' }])
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    } finally {
      db.close()
    }
  })

  test('GET /metrics reports served requests and orders in Prometheus text and JSON', async () => {
    const text = await (await fetch(`${shop.base}/metrics`)).text()
    const served = Number(/^shop_requests_served_total (\d+)$/m.exec(text)?.[1])
    assert.ok(served >= pages.length, `served ${served}`)
    assert.match(text, /^shop_orders_created_total 1$/m)
    assert.match(text, /^shop_in_flight_requests 0$/m)
    const m = (await (await fetch(`${shop.base}/metrics`, { headers: json })).json()) as { served: number; workThreads: number }
    assert.ok(m.served >= served)
    assert.equal(m.workThreads, 2)
  })

  test('a second instance on the same SQLite file shares carts and does not seed twice', async () => {
    const other = await startShop({ SHOP_DB: dbPath, SHOP_WORK_MS: '0', TIDE_INSTANCE_ID: 'shop-b' })
    try {
      assert.equal(other.lines[0]!.products, 120)
      const s = session(shop.base)
      await s('/cart/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"productId":7}' })
      assert.match(s.cookie(), /^shop_session=[0-9a-f]{32}$/)
      // The same cookie against the other instance: the cart lives in SQLite.
      const cartOnOther = await fetch(`${other.base}/cart`, { headers: { ...json, cookie: s.cookie() } })
      assert.deepEqual(((await cartOnOther.json()) as { items: { productId: number }[] }).items.map((i) => i.productId), [7])
    } finally {
      assert.equal(await other.stop(), 0)
    }
  })

  test('GET /drain and POST on it report the gate; other methods are 405', async () => {
    assert.deepEqual(Object.keys((await (await fetch(`${shop.base}/drain`)).json()) as object).sort(), ['draining', 'inFlight', 'served'])
    assert.equal((await fetch(`${shop.base}/drain`, { method: 'DELETE' })).status, 405)
  })
})

describe('demo shop: drain and shutdown', () => {
  test('POST /drain: new work gets 503 + Retry-After, in-flight work finishes, in-flight is reported', async () => {
    const shop = await startShop({ SHOP_DB: join(dir, 'drain.db'), SHOP_WORK_MS: '1500' })
    try {
      const slow = fetch(`${shop.base}/products/2`, { headers: json }) // 1.5 s of rendering work: long enough to be seen in flight on a loaded machine
      await inFlightReaches(shop.base, 1)
      const drained = (await (await fetch(`${shop.base}/drain`, { method: 'POST' })).json()) as { draining: boolean; inFlight: number }
      assert.deepEqual({ draining: drained.draining, inFlight: drained.inFlight }, { draining: true, inFlight: 1 })
      const refused = await fetch(`${shop.base}/products`)
      assert.equal(refused.status, 503)
      assert.equal(refused.headers.get('retry-after'), '1')
      assert.equal((await fetch(`${shop.base}/healthz`)).status, 200, 'control routes still answer')
      assert.equal((await slow).status, 200, 'the in-flight request completed normally')
      await inFlightReaches(shop.base, 0)
      assert.match(await (await fetch(`${shop.base}/metrics`)).text(), /^shop_requests_rejected_total 1$/m)
    } finally {
      await shop.stop()
    }
  })

  test('SIGTERM finishes in-flight requests, logs one stopped line, exits 0', async () => {
    const shop = await startShop({ SHOP_DB: join(dir, 'term.db'), SHOP_WORK_MS: '1500' })
    const slow = fetch(`${shop.base}/products/1`, { headers: json })
    await inFlightReaches(shop.base, 1)
    shop.proc.kill('SIGTERM')
    const res = await slow
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { id: number }).id, 1)
    assert.equal(await shop.exited, 0)
    assert.deepEqual(shop.lines.map((l) => l.event), ['started', 'stopped'])
    assert.equal(shop.lines[1]!.clean, true)
  })

  const badEnv = [
    { name: 'TIDE_CPU not a number', env: { TIDE_CPU: 'lots' }, names: 'TIDE_CPU' },
    { name: 'negative SHOP_WORK_MS', env: { SHOP_WORK_MS: '-1' }, names: 'SHOP_WORK_MS' },
    { name: 'PORT out of range', env: { PORT: '70000' }, names: 'PORT' },
  ] as const
  for (const c of badEnv) {
    test(`refuses to start with ${c.name}, naming the variable`, async () => {
      const r = await runShopExpectingExit({ SHOP_DB: join(dir, 'bad.db'), ...c.env })
      assert.equal(r.code, 2)
      assert.match(r.stderr, new RegExp(`^shop: ${c.names}=`))
    })
  }
})
