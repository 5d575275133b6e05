/**
 * The shop's HTML pages: plain server-side rendering with every value escaped.
 * Kept apart from the routes so that the markup is in one place.
 */
import type { Cart, Product } from './store.ts'

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** 1234 → "12.34". */
export function formatCents(cents: number): string {
  return `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · tide shop</title></head>
<body><header><a href="/products">tide shop</a> · <a href="/cart">cart</a></header>
<main>${body}</main></body></html>
`
}

/** The catalog page `page` (1-based) of `pages`. */
export function catalogPage(products: readonly Product[], page: number, pages: number): string {
  const items = products
    .map((p) => `<li><a href="/products/${p.id}">${escapeHtml(p.name)}</a> <span class="price">$${formatCents(p.priceCents)}</span></li>`)
    .join('\n')
  const prev = page > 1 ? `<a href="/products?page=${page - 1}">previous</a>` : ''
  const next = page < pages ? `<a href="/products?page=${page + 1}">next</a>` : ''
  return layout('Catalog', `<h1>Catalog</h1><ul>${items}</ul><nav>${prev} page ${page} of ${pages} ${next}</nav>`)
}

/** One product's page with an add-to-cart form. */
export function productPage(p: Product): string {
  return layout(
    p.name,
    `<h1>${escapeHtml(p.name)}</h1><p>${escapeHtml(p.description)}</p><p class="price">$${formatCents(p.priceCents)}</p>
<p>SKU ${escapeHtml(p.sku)} · ${p.stock > 0 ? 'in stock' : 'sold out'}</p>
<form method="post" action="/cart/items"><input type="hidden" name="productId" value="${p.id}">
<input type="number" name="quantity" value="1" min="1"><button>Add to cart</button></form>`,
  )
}

/** The cart page with a checkout button. */
export function cartPage(cart: Cart): string {
  const lines = cart.items
    .map((l) => `<tr><td>${escapeHtml(l.name)}</td><td>${l.quantity}</td><td>$${formatCents(l.priceCents * l.quantity)}</td></tr>`)
    .join('\n')
  const body =
    cart.items.length === 0
      ? '<h1>Your cart</h1><p>Your cart is empty.</p>'
      : `<h1>Your cart</h1><table>${lines}</table><p>Total $${formatCents(cart.totalCents)}</p><form method="post" action="/checkout"><button>Check out</button></form>`
  return layout('Cart', body)
}
