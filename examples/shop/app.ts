/**
 * The shop's routes. Control routes (/healthz, /drain, /metrics) always answer;
 * work routes (catalog, cart, checkout, orders) pass the TrafficGate, so that a
 * draining instance refuses new work with 503 + Retry-After while it finishes what
 * it has. Each work request spends real cpu in the WorkPool, proportionate to its
 * kind: a page render costs SHOP_WORK_MS, pricing a checkout twice that.
 *
 * Routes (JSON when the request accepts application/json, else HTML):
 *   GET  /, /products[?page=N]     catalog, 20 per page
 *   GET  /products/:id             one product
 *   GET  /cart                     the session's cart
 *   POST /cart/items               {productId, quantity} (JSON or form); sets the session cookie
 *   DELETE /cart/items/:productId  removes a line
 *   POST /checkout                 places the cart as an order (201); Idempotency-Key honoured
 *   GET  /orders/:id               an order of this session (JSON)
 *   GET  /healthz                  200 {status, draining, inFlight}
 *   GET|POST /drain                POST closes the gate; both report {draining, inFlight}
 *   GET  /metrics                  Prometheus text (JSON on Accept: application/json)
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ShopConfig } from './config.ts'
import { cartPage, catalogPage, productPage } from './pages.ts'
import type { ShopStore } from './store.ts'
import type { TrafficGate } from './traffic-gate.ts'
import type { WorkPool } from './work-pool.ts'

/** What the routes need. */
export interface ShopDeps {
  readonly config: ShopConfig
  readonly store: ShopStore
  readonly gate: TrafficGate
  /** Undefined when SHOP_WORK_MS is 0: no cpu work at all. */
  readonly pool: WorkPool | undefined
  /** Epoch ms, for order timestamps. */
  readonly nowMs: () => number
  /** Called once per unexpected error (a bug or a database fault), never per request. */
  readonly logError: (err: unknown, where: string) => void
}

const pageSize = 20
const maxBodyBytes = 64 * 1024
const sessionCookie = 'shop_session'

/** An answer with a status that a handler gives instead of a normal response (400, 404, 405, 413). */
class HttpProblem extends Error {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.headers = headers
  }
}

/** Counters for /metrics beyond the gate's. */
interface Counters {
  ordersCreated: number
}

/** Builds the request listener for node:http's createServer. */
export function createShopHandler(deps: ShopDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const counters: Counters = { ordersCreated: 0 }
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop.invalid')
    const control = controlRoute(deps, counters, req, url.pathname)
    if (control !== undefined) {
      send(res, control.status, control.body, control.type)
      return
    }
    const done = deps.gate.enter()
    if (done === undefined) {
      res.setHeader('retry-after', '1')
      res.setHeader('connection', 'close')
      sendJson(res, 503, { error: 'draining', instance: deps.config.instanceId })
      return
    }
    res.once('close', done)
    workRoute(deps, counters, req, res, url).catch((err: unknown) => {
      if (err instanceof HttpProblem) {
        for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v)
        sendJson(res, err.status, { error: err.message })
        return
      }
      deps.logError(err, `${req.method ?? '?'} ${url.pathname}`)
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' })
      else res.destroy()
    })
  }
}

interface Answer {
  readonly status: number
  readonly body: string
  readonly type: string
}

function controlRoute(deps: ShopDeps, counters: Counters, req: IncomingMessage, path: string): Answer | undefined {
  const { gate, config } = deps
  const method = req.method ?? 'GET'
  if (path === '/healthz' && method === 'GET') {
    return json(200, { status: 'ok', instance: config.instanceId, draining: gate.draining, inFlight: gate.inFlight })
  }
  if (path === '/drain' && (method === 'GET' || method === 'POST')) {
    if (method === 'POST') gate.drain()
    return json(200, { draining: gate.draining, inFlight: gate.inFlight, served: gate.served })
  }
  if (path === '/metrics' && method === 'GET') return metricsAnswer(deps, counters, accepts(req, 'application/json'))
  if (path === '/healthz' || path === '/drain' || path === '/metrics') return json(405, { error: `method ${method} not allowed on ${path}` })
  return undefined
}

/** /metrics: Prometheus text exposition, or JSON. */
function metricsAnswer(deps: ShopDeps, counters: Counters, asJson: boolean): Answer {
  const { gate, config, pool } = deps
  const m = {
    inFlight: gate.inFlight,
    served: gate.served,
    rejected: gate.rejected,
    ordersCreated: counters.ordersCreated,
    draining: gate.draining,
    workQueued: pool?.queued ?? 0,
    workThreads: pool?.threads ?? 0,
    cpu: config.cpu,
    memoryMiB: config.memoryMiB,
    workMs: config.workMs,
  }
  if (asJson) return json(200, m)
  const lines = [
    '# HELP shop_in_flight_requests Work requests being served now.',
    '# TYPE shop_in_flight_requests gauge',
    `shop_in_flight_requests ${m.inFlight}`,
    '# HELP shop_requests_served_total Work requests completed since start.',
    '# TYPE shop_requests_served_total counter',
    `shop_requests_served_total ${m.served}`,
    '# HELP shop_requests_rejected_total Work requests refused with 503 while draining.',
    '# TYPE shop_requests_rejected_total counter',
    `shop_requests_rejected_total ${m.rejected}`,
    '# HELP shop_orders_created_total Orders placed by this instance.',
    '# TYPE shop_orders_created_total counter',
    `shop_orders_created_total ${m.ordersCreated}`,
    '# TYPE shop_draining gauge',
    `shop_draining ${m.draining ? 1 : 0}`,
    '# TYPE shop_work_queued gauge',
    `shop_work_queued ${m.workQueued}`,
    '# TYPE shop_work_threads gauge',
    `shop_work_threads ${m.workThreads}`,
    '# TYPE shop_cpu_size gauge',
    `shop_cpu_size ${m.cpu}`,
  ]
  return { status: 200, body: lines.join('\n') + '\n', type: 'text/plain; version=0.0.4' }
}

/** One request as the work routes see it. */
interface Ctx {
  readonly deps: ShopDeps
  readonly counters: Counters
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly url: URL
  /** The path's captured id, for routes with one. */
  readonly id: number
  readonly asJson: boolean
}

interface Route {
  readonly pattern: RegExp
  readonly method: 'GET' | 'POST' | 'DELETE'
  readonly handle: (ctx: Ctx) => Promise<void>
}

const routes: readonly Route[] = [
  { pattern: /^\/(products)?$/, method: 'GET', handle: showCatalog },
  { pattern: /^\/products\/(\d+)$/, method: 'GET', handle: showProduct },
  { pattern: /^\/cart$/, method: 'GET', handle: showCart },
  { pattern: /^\/cart\/items$/, method: 'POST', handle: addToCart },
  { pattern: /^\/cart\/items\/(\d+)$/, method: 'DELETE', handle: removeFromCart },
  { pattern: /^\/checkout$/, method: 'POST', handle: checkout },
  { pattern: /^\/orders\/(\d+)$/, method: 'GET', handle: showOrder },
]

async function workRoute(deps: ShopDeps, counters: Counters, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET'
  const matching = routes.map((r) => ({ route: r, m: r.pattern.exec(url.pathname) })).filter((x) => x.m !== null)
  if (matching.length === 0) throw new HttpProblem(404, `no route ${url.pathname}`)
  const hit = matching.find((x) => x.route.method === method)
  if (hit === undefined) {
    const methods = matching.map((x) => x.route.method).join(', ')
    throw new HttpProblem(405, `method ${method} not allowed on ${url.pathname}`, { allow: methods })
  }
  const id = Number(hit.m?.[1] ?? NaN)
  await hit.route.handle({ deps, counters, req, res, url, id, asJson: accepts(req, 'application/json') })
}

async function showCatalog({ deps, res, url, asJson }: Ctx): Promise<void> {
  const { store } = deps
  const pages = Math.max(1, Math.ceil(store.productCount() / pageSize))
  const page = Math.min(pages, Math.max(1, Math.trunc(Number(url.searchParams.get('page') ?? '1')) || 1))
  const products = store.listProducts((page - 1) * pageSize, pageSize)
  await work(deps, res, 1, page)
  if (asJson) sendJson(res, 200, { page, pages, products })
  else send(res, 200, catalogPage(products, page, pages), 'text/html; charset=utf-8')
}

async function showProduct({ deps, res, id, asJson }: Ctx): Promise<void> {
  const product = deps.store.product(id)
  if (product === undefined) throw new HttpProblem(404, `no product ${id}`)
  await work(deps, res, 1, product.id)
  if (asJson) sendJson(res, 200, product)
  else send(res, 200, productPage(product), 'text/html; charset=utf-8')
}

async function showCart({ deps, req, res, asJson }: Ctx): Promise<void> {
  const session = sessionOf(req)
  const cart = session === undefined ? { items: [], totalCents: 0 } : deps.store.cart(session)
  await work(deps, res, 0.5, cart.items.length)
  if (asJson) sendJson(res, 200, cart)
  else send(res, 200, cartPage(cart), 'text/html; charset=utf-8')
}

async function addToCart({ deps, req, res, asJson }: Ctx): Promise<void> {
  const form = await readForm(req)
  const productId = Number(form.productId)
  const quantity = form.quantity === undefined ? 1 : Number(form.quantity)
  if (!Number.isInteger(productId) || productId <= 0) throw new HttpProblem(400, 'productId must be a positive integer')
  if (!Number.isInteger(quantity) || quantity <= 0 || quantity > 1000) throw new HttpProblem(400, 'quantity must be an integer 1-1000')
  const session = sessionOf(req) ?? newSession(res)
  if (!deps.store.addToCart(session, productId, quantity)) throw new HttpProblem(404, `no product ${productId}`)
  await work(deps, res, 0.5, productId)
  if (asJson) sendJson(res, 200, deps.store.cart(session))
  else redirect(res, '/cart')
}

async function removeFromCart({ deps, req, res, id }: Ctx): Promise<void> {
  const session = sessionOf(req)
  if (session !== undefined) deps.store.removeFromCart(session, id)
  await work(deps, res, 0.5, id)
  sendJson(res, 200, session === undefined ? { items: [], totalCents: 0 } : deps.store.cart(session))
}

async function checkout({ deps, counters, req, res, asJson }: Ctx): Promise<void> {
  await readForm(req) // consume any form body; the cart itself is server-side
  const session = sessionOf(req)
  if (session === undefined) throw new HttpProblem(409, 'the cart is empty')
  const key = req.headers['idempotency-key']
  const idempotencyKey = typeof key === 'string' && key.length > 0 && key.length <= 200 ? key : undefined
  // Pricing (discounts, tax) is the expensive part of a checkout: twice a page render.
  await work(deps, res, 2, session.charCodeAt(0))
  const result = deps.store.checkout(session, idempotencyKey, deps.nowMs())
  switch (result.kind) {
    case 'empty-cart':
      throw new HttpProblem(409, 'the cart is empty')
    case 'out-of-stock':
      throw new HttpProblem(409, `${result.name} (product ${result.productId}) is out of stock`)
    case 'placed':
      if (!result.repeated) counters.ordersCreated++
      if (asJson || !accepts(req, 'text/html')) sendJson(res, result.repeated ? 200 : 201, result.order, { location: `/orders/${result.order.id}` })
      else redirect(res, `/orders/${result.order.id}`)
  }
}

async function showOrder({ deps, req, res, id }: Ctx): Promise<void> {
  const session = sessionOf(req)
  const order = session === undefined ? undefined : deps.store.order(session, id)
  if (order === undefined) throw new HttpProblem(404, `no order ${id} for this session`)
  await work(deps, res, 0.5, order.id)
  sendJson(res, 200, order)
}

/** Spends `factor` × SHOP_WORK_MS of cpu in the pool and shows the checksum in x-shop-work. */
async function work(deps: ShopDeps, res: ServerResponse, factor: number, seed: number): Promise<void> {
  if (deps.pool === undefined) return
  const checksum = await deps.pool.run(deps.config.workMs * factor, seed + 1)
  res.setHeader('x-shop-work', checksum.toString(16))
}

function accepts(req: IncomingMessage, type: string): boolean {
  return (req.headers.accept ?? '').includes(type)
}

function sessionOf(req: IncomingMessage): string | undefined {
  const cookie = req.headers.cookie ?? ''
  for (const part of cookie.split(';')) {
    const [k, v] = part.trim().split('=')
    if (k === sessionCookie && v !== undefined && /^[0-9a-f]{32}$/.test(v)) return v
  }
  return undefined
}

function newSession(res: ServerResponse): string {
  const id = randomBytes(16).toString('hex')
  res.setHeader('set-cookie', `${sessionCookie}=${id}; Path=/; HttpOnly; SameSite=Lax`)
  return id
}

/** Reads a JSON or urlencoded body of at most 64 KiB into string fields. */
async function readForm(req: IncomingMessage): Promise<Record<string, string | undefined>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBodyBytes) throw new HttpProblem(413, `request body over ${maxBodyBytes} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  const type = req.headers['content-type'] ?? ''
  if (type.includes('application/json')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new HttpProblem(400, 'the body is not valid JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpProblem(400, 'the body must be a JSON object')
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' || typeof v === 'number' ? String(v) : undefined]))
  }
  return Object.fromEntries(new URLSearchParams(text))
}

function json(status: number, value: unknown): Answer {
  return { status, body: JSON.stringify(value), type: 'application/json' }
}

function send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(value), 'application/json', headers)
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'content-length': 0 })
  res.end()
}
