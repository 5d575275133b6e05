import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sameSize, sizePrice, sizeText, type SizeLike } from '../../src/core/size.ts'

const small: SizeLike = { name: 'small', cpu: 0.5, memoryMiB: 256, pricePerHour: 0.02 }
const large: SizeLike = { name: 'large', cpu: 2, memoryMiB: 1024, pricePerHour: 0.1 }
const unpriced: SizeLike = { cpu: 1, memoryMiB: 512 }

const priceCases = [
  { name: 'every rung priced: the price per hour', size: large, ladder: [small, large], want: 0.1 },
  { name: 'one rung unpriced: cpu for every rung, priced or not', size: large, ladder: [small, large, unpriced], want: 2 },
  { name: 'empty ladder: cpu', size: small, ladder: [], want: 0.5 },
  { name: 'a size off a priced ladder without a price: its cpu', size: unpriced, ladder: [small, large], want: 1 },
] as const
for (const c of priceCases) {
  test(`sizePrice: ${c.name}`, () => {
    assert.equal(sizePrice(c.size, c.ladder), c.want)
  })
}

const sameCases = [
  { name: 'same cpu and memory, different names and prices', a: small, b: { cpu: 0.5, memoryMiB: 256 }, want: true },
  { name: 'same cpu, other memory', a: small, b: { cpu: 0.5, memoryMiB: 512 }, want: false },
  { name: 'other cpu, same memory', a: small, b: { cpu: 1, memoryMiB: 256 }, want: false },
] as const
for (const c of sameCases) {
  test(`sameSize: ${c.name}`, () => {
    assert.equal(sameSize(c.a, c.b), c.want)
    assert.equal(sameSize(c.b, c.a), c.want, 'symmetric')
  })
}

test('sizeText: the name first when there is one', () => {
  assert.equal(sizeText(large), 'large 2 cpu/1024 MiB')
  assert.equal(sizeText(unpriced), '1 cpu/512 MiB')
})
