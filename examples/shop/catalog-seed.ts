/**
 * The catalog the shop seeds on first start: 120 products built deterministically
 * from word lists, so every fresh database holds the same catalog (tests rely on
 * product 1 existing and on prices being stable).
 */

/** One product to insert. Prices in cents. */
export interface SeedProduct {
  readonly sku: string
  readonly name: string
  readonly description: string
  readonly priceCents: number
  readonly stock: number
}

const adjectives = ['Tidal', 'Harbour', 'Coral', 'Drift', 'Saltwater', 'Moonlit', 'Breaker', 'Lagoon', 'Reef', 'Current'] as const
const nouns = ['Backpack', 'Lantern', 'Mug', 'Blanket', 'Sneakers', 'Headphones', 'Notebook', 'Umbrella', 'Water Bottle', 'Sunglasses', 'Hoodie', 'Desk Lamp'] as const

/** The seed catalog: every adjective × noun pair, priced 4.99–203.99 by a fixed formula. */
export function seedCatalog(): SeedProduct[] {
  const products: SeedProduct[] = []
  adjectives.forEach((adj, a) => {
    nouns.forEach((noun, n) => {
      const i = a * nouns.length + n
      products.push({
        sku: `TD-${String(i + 1).padStart(4, '0')}`,
        name: `${adj} ${noun}`,
        description: `The ${adj.toLowerCase()} take on the everyday ${noun.toLowerCase()}: made to last a season of tides.`,
        // (i × 37) mod 200 spreads prices over 0–199 dollars, plus 4.99.
        priceCents: ((i * 37) % 200) * 100 + 499,
        stock: 1_000_000,
      })
    })
  })
  return products
}
