/**
 * The shop's data in SQLite (better-sqlite3): catalog, carts (per session, so that any
 * instance serves any session), orders. Several instances share one file: WAL mode
 * lets readers run beside the one writer, and busy_timeout makes a writer wait for
 * the lock instead of failing. Checkout is one IMMEDIATE transaction: stock, order
 * and cart change together or not at all, and an Idempotency-Key makes a repeated
 * checkout return the first order instead of charging twice.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { seedCatalog } from './catalog-seed.ts'

/** A catalog product. */
export interface Product {
  readonly id: number
  readonly sku: string
  readonly name: string
  readonly description: string
  readonly priceCents: number
  readonly stock: number
}

/** One line of a cart or an order. */
export interface LineItem {
  readonly productId: number
  readonly name: string
  readonly quantity: number
  readonly priceCents: number
}

/** A cart: its lines and their total. */
export interface Cart {
  readonly items: LineItem[]
  readonly totalCents: number
}

/** A placed order. */
export interface Order {
  readonly id: number
  readonly totalCents: number
  readonly createdAtMs: number
  readonly instance: string
  readonly items: LineItem[]
}

/** Why a checkout could not be placed. */
export type CheckoutRefusal = { readonly kind: 'empty-cart' } | { readonly kind: 'out-of-stock'; readonly productId: number; readonly name: string }

/** The result of a checkout: the order (new, or the earlier one for a repeated Idempotency-Key) or a refusal. */
export type CheckoutResult = { readonly kind: 'placed'; readonly order: Order; readonly repeated: boolean } | CheckoutRefusal

interface ProductRow { id: number; sku: string; name: string; description: string; price_cents: number; stock: number }
interface LineRow { product_id: number; name: string; quantity: number; price_cents: number }
interface OrderRow { id: number; session: string; total_cents: number; created_at_ms: number; instance: string }

const schema = `
CREATE TABLE IF NOT EXISTS products (
  id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT NOT NULL,
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0), stock INTEGER NOT NULL CHECK (stock >= 0));
CREATE TABLE IF NOT EXISTS cart_items (
  session TEXT NOT NULL, product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (session, product_id));
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY, session TEXT NOT NULL, total_cents INTEGER NOT NULL, created_at_ms INTEGER NOT NULL,
  instance TEXT NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS order_items (
  order_id INTEGER NOT NULL REFERENCES orders(id), product_id INTEGER NOT NULL REFERENCES products(id),
  quantity INTEGER NOT NULL, price_cents INTEGER NOT NULL, PRIMARY KEY (order_id, product_id));
`

/** The shop's database. One per process; close() at shutdown. */
export class ShopStore {
  readonly #db: Database.Database
  readonly #instance: string

  /**
   * Opens (creating when missing) the database at `path`, sets WAL and busy_timeout,
   * creates the tables and seeds the catalog if it is empty. `cacheMiB` sizes SQLite's
   * page cache. Seeding runs in an IMMEDIATE transaction, so instances starting
   * together seed it exactly once.
   */
  constructor(path: string, instance: string, cacheMiB: number) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    this.#db = new Database(path)
    this.#instance = instance
    this.#db.pragma('busy_timeout = 5000')
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('synchronous = NORMAL')
    this.#db.pragma('foreign_keys = ON')
    this.#db.pragma(`cache_size = ${-Math.max(1024, Math.round(cacheMiB * 1024))}`)
    this.#db.exec(schema)
    this.#seed()
  }

  /** How many products the catalog holds. */
  productCount(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n
  }

  /** One page of the catalog, by id; `limit` products from `offset`. */
  listProducts(offset: number, limit: number): Product[] {
    const rows = this.#db.prepare('SELECT * FROM products ORDER BY id LIMIT ? OFFSET ?').all(limit, offset) as ProductRow[]
    return rows.map(toProduct)
  }

  /** A product by id, or undefined. */
  product(id: number): Product | undefined {
    const row = this.#db.prepare('SELECT * FROM products WHERE id = ?').get(id) as ProductRow | undefined
    return row === undefined ? undefined : toProduct(row)
  }

  /** The cart of a session (empty for an unknown session). */
  cart(session: string): Cart {
    const rows = this.#db
      .prepare('SELECT c.product_id, p.name, c.quantity, p.price_cents FROM cart_items c JOIN products p ON p.id = c.product_id WHERE c.session = ? ORDER BY c.product_id')
      .all(session) as LineRow[]
    const items = rows.map(toLine)
    return { items, totalCents: items.reduce((sum, l) => sum + l.quantity * l.priceCents, 0) }
  }

  /** Adds `quantity` of a product to a session's cart; false when the product does not exist. */
  addToCart(session: string, productId: number, quantity: number): boolean {
    if (this.product(productId) === undefined) return false
    this.#db
      .prepare('INSERT INTO cart_items (session, product_id, quantity) VALUES (?, ?, ?) ON CONFLICT (session, product_id) DO UPDATE SET quantity = quantity + excluded.quantity')
      .run(session, productId, quantity)
    return true
  }

  /** Removes a product from a session's cart; removing an absent line does nothing. */
  removeFromCart(session: string, productId: number): void {
    this.#db.prepare('DELETE FROM cart_items WHERE session = ? AND product_id = ?').run(session, productId)
  }

  /**
   * Places the session's cart as an order in one IMMEDIATE transaction: checks and
   * decrements stock, writes the order and its lines, empties the cart. With an
   * `idempotencyKey` already used by this session, returns that order unchanged.
   */
  checkout(session: string, idempotencyKey: string | undefined, nowMs: number): CheckoutResult {
    const tx = this.#db.transaction((): CheckoutResult => {
      if (idempotencyKey !== undefined) {
        const prior = this.#db.prepare('SELECT * FROM orders WHERE idempotency_key = ? AND session = ?').get(idempotencyKey, session) as OrderRow | undefined
        if (prior !== undefined) return { kind: 'placed', order: this.#orderFrom(prior), repeated: true }
      }
      const cart = this.cart(session)
      if (cart.items.length === 0) return { kind: 'empty-cart' }
      const take = this.#db.prepare('UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?')
      for (const line of cart.items) {
        if (take.run(line.quantity, line.productId, line.quantity).changes !== 1) {
          // Throwing rolls the transaction back; caught below and turned into a refusal.
          throw new OutOfStock(line.productId, line.name)
        }
      }
      const info = this.#db
        .prepare('INSERT INTO orders (session, total_cents, created_at_ms, instance, idempotency_key) VALUES (?, ?, ?, ?, ?)')
        .run(session, cart.totalCents, nowMs, this.#instance, idempotencyKey ?? null)
      const orderId = Number(info.lastInsertRowid)
      const addLine = this.#db.prepare('INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES (?, ?, ?, ?)')
      for (const line of cart.items) addLine.run(orderId, line.productId, line.quantity, line.priceCents)
      this.#db.prepare('DELETE FROM cart_items WHERE session = ?').run(session)
      return { kind: 'placed', order: { id: orderId, totalCents: cart.totalCents, createdAtMs: nowMs, instance: this.#instance, items: cart.items }, repeated: false }
    })
    try {
      return tx.immediate()
    } catch (err) {
      if (err instanceof OutOfStock) return { kind: 'out-of-stock', productId: err.productId, name: err.productName }
      throw err
    }
  }

  /** An order placed by `session`, or undefined (orders of other sessions are not shown). */
  order(session: string, id: number): Order | undefined {
    const row = this.#db.prepare('SELECT * FROM orders WHERE id = ? AND session = ?').get(id, session) as OrderRow | undefined
    return row === undefined ? undefined : this.#orderFrom(row)
  }

  /** Closes the database (checkpointing the WAL when this is the last connection). */
  close(): void {
    this.#db.close()
  }

  #orderFrom(row: OrderRow): Order {
    const lines = this.#db
      .prepare('SELECT o.product_id, p.name, o.quantity, o.price_cents FROM order_items o JOIN products p ON p.id = o.product_id WHERE o.order_id = ? ORDER BY o.product_id')
      .all(row.id) as LineRow[]
    return { id: row.id, totalCents: row.total_cents, createdAtMs: row.created_at_ms, instance: row.instance, items: lines.map(toLine) }
  }

  #seed(): void {
    const seed = this.#db.transaction(() => {
      if (this.productCount() > 0) return
      const insert = this.#db.prepare('INSERT INTO products (sku, name, description, price_cents, stock) VALUES (?, ?, ?, ?, ?)')
      for (const p of seedCatalog()) insert.run(p.sku, p.name, p.description, p.priceCents, p.stock)
    })
    seed.immediate()
  }
}

class OutOfStock extends Error {
  readonly productId: number
  readonly productName: string
  constructor(productId: number, productName: string) {
    super(`product ${productId} is out of stock`)
    this.productId = productId
    this.productName = productName
  }
}

function toProduct(r: ProductRow): Product {
  return { id: r.id, sku: r.sku, name: r.name, description: r.description, priceCents: r.price_cents, stock: r.stock }
}

function toLine(r: LineRow): LineItem {
  return { productId: r.product_id, name: r.name, quantity: r.quantity, priceCents: r.price_cents }
}
