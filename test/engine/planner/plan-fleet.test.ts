import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planFleet, type MixedOrder, type PlanFleetInput } from '../../../src/engine/planner/plan-fleet.ts'
import type { QuotaRoom } from '../../../src/engine/types.ts'
import type { Size } from '../../../src/spec/schema.ts'

/**
 * The planner's specification, written as a search over every plan (size on the ladder or the
 * current size, count 0..max), independent of the planner's per-size shortcut:
 * - sizes with less memory than asked are out (when none has enough, those with the most memory stay);
 * - a plan fits the quota when its instances, cpu and memory stay within what the group holds now
 *   plus the room (an empty fleet always fits);
 * - feasible: min ≤ n, n × cpu ≥ demand, within quota; the best by the order's keys, in turn,
 *   the first candidate (ladder order, then the current size) on a full tie;
 * - none feasible: the most capacity (n × cpu), then the least cost.
 * price(s) = pricePerHour when every ladder rung has one, else cpu; cost = price + price × startup / amortisation
 * when the size changes.
 */
function bruteForce(input: PlanFleetInput): { size: Size; count: number; price: number; meetsDemand: boolean } {
  const same = (a: Size, b: Size) => a.cpu === b.cpu && a.memoryMiB === b.memoryMiB
  const all: Size[] = []
  for (const s of [...input.ladder, input.currentSize]) if (!all.some((o) => same(o, s))) all.push(s)
  const most = Math.max(...all.map((s) => s.memoryMiB))
  const sizes = all.filter((s) => s.memoryMiB >= Math.min(input.minMemoryMiB ?? 0, most))
  const priced = input.ladder.length > 0 && input.ladder.every((s) => s.pricePerHour !== undefined)
  const unitPrice = (s: Size) => (priced ? (s.pricePerHour ?? s.cpu) : s.cpu)
  const room = input.quotaRoom
  const held = { n: input.currentCount, cpu: input.currentCount * input.currentSize.cpu, mem: input.currentCount * input.currentSize.memoryMiB }
  const fits = (s: Size, n: number) =>
    n === 0 ||
    room === undefined ||
    ((room.instances === undefined || n <= held.n + room.instances) && (room.cpu === undefined || n * s.cpu <= held.cpu + room.cpu) && (room.memoryMiB === undefined || n * s.memoryMiB <= held.mem + room.memoryMiB))
  const plans: { size: Size; count: number; price: number; cost: number; changes: number }[] = []
  for (const size of sizes) {
    for (let count = 0; count <= input.max; count++) {
      if (!fits(size, count)) continue
      const price = count * unitPrice(size)
      const changes = same(size, input.currentSize) ? 0 : 1
      const cost = changes === 1 ? price + (price * input.startupSeconds) / (input.amortisationSeconds ?? 3600) : price
      plans.push({ size, count, price, cost, changes })
    }
  }
  const keys: Record<MixedOrder, (p: (typeof plans)[number]) => number[]> = {
    cheapest: (p) => [p.cost, p.changes, p.count],
    'vertical-first': (p) => [p.count, p.cost, p.changes, p.count],
    'horizontal-first': (p) => [p.size.cpu, p.size.memoryMiB, p.cost, p.changes, p.count],
  }
  const less = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) < (b[i] ?? 0)
    return false
  }
  const argmin = (list: typeof plans, key: (p: (typeof plans)[number]) => number[]) => list.reduce((best, p) => (less(key(p), key(best)) ? p : best))
  const feasible = plans.filter((p) => p.count >= input.min && p.count * p.size.cpu >= input.demandCpu)
  // Short of memory on every rung, even a plan with the cpu does not meet the demand.
  const memoryShort = (input.minMemoryMiB ?? 0) > most
  if (feasible.length > 0) return { ...argmin(feasible, keys[input.order]), meetsDemand: !memoryShort }
  return { ...argmin(plans, (p) => [-p.count * p.size.cpu, p.cost]), meetsDemand: false }
}

function check(input: PlanFleetInput, label: string): void {
  const got = planFleet(input)
  const want = bruteForce(input)
  const show = (p: { size: Size; count: number }) => `${p.count} × ${p.size.cpu} cpu/${p.size.memoryMiB} MiB`
  assert.equal(show(got), show(want), `${label}: ${JSON.stringify(input)}`)
  assert.equal(got.meetsDemand, want.meetsDemand, label)
  assert.ok(Math.abs(got.pricePerHour - want.price) < 1e-9, `${label}: price ${got.pricePerHour} vs ${want.price}`)
}

// A ladder priced so that large is the cheapest per cpu: 0.5, 0.375 and 0.5 per cpu-hour.
const small: Size = { name: 'small', cpu: 1, memoryMiB: 1024, pricePerHour: 0.5 }
const large: Size = { name: 'large', cpu: 2, memoryMiB: 2048, pricePerHour: 0.75 }
const xlarge: Size = { name: 'xlarge', cpu: 4, memoryMiB: 4096, pricePerHour: 2 }
const priced = [small, large, xlarge]
const unpriced: Size[] = priced.map(({ name, cpu, memoryMiB }) => ({ ...(name === undefined ? {} : { name }), cpu, memoryMiB }))
const [uSmall] = unpriced as [Size]

const base = (fields: Partial<PlanFleetInput>): PlanFleetInput => ({
  demandCpu: 6,
  ladder: unpriced,
  currentSize: uSmall,
  currentCount: 4,
  min: 1,
  max: 10,
  order: 'cheapest',
  startupSeconds: 0,
  ...fields,
})

// Current: 4 × small (1 cpu). Demand in cores; without prices, price = cpu.
const named: { name: string; input: PlanFleetInput; want: string; price: number; meets?: boolean }[] = [
  // small × 6 = 6, large × 3 = 6, xlarge × 2 = 8: small and large tie at 6/h; the tie keeps the current size.
  { name: 'cheapest without prices: a tie keeps the current size', input: base({}), want: '6 × small', price: 6 },
  // small × 6 = 3, large × 3 = 2.25, xlarge × 2 = 4 → large.
  { name: 'cheapest with prices: large is cheaper per cpu', input: base({ ladder: priced, currentSize: small }), want: '3 × large', price: 2.25 },
  // large: 2.25 + 2.25 × 1800/3600 = 3.375 > small's 3: changing size costs more than it saves within the hour.
  { name: 'cheapest with prices: a slow replacement keeps the current size', input: base({ ladder: priced, currentSize: small, startupSeconds: 1800 }), want: '6 × small', price: 3 },
  // Over 2 hours: 2.25 + 2.25 × 1800/7200 = 2.8125 < 3 → large again.
  { name: 'cheapest with prices: amortised over two hours it pays', input: base({ ladder: priced, currentSize: small, startupSeconds: 1800, amortisationSeconds: 7200 }), want: '3 × large', price: 2.25 },
  // Counts: small 6, large 3, xlarge 2 → the fewest.
  { name: 'vertical-first: the fewest instances', input: base({ order: 'vertical-first' }), want: '2 × xlarge', price: 8 },
  // Demand 1.5: small 2, large 1, xlarge 1 → count 1; large (2/h) cheaper than xlarge (4/h).
  { name: 'vertical-first: among equal counts the cheapest (up one rung, not two)', input: base({ order: 'vertical-first', demandCpu: 1.5 }), want: '1 × large', price: 2 },
  // Demand 16: small needs 16 > 10, large 8, xlarge 4 → 4 × xlarge.
  { name: 'vertical-first: beyond the top rung it grows out', input: base({ order: 'vertical-first', demandCpu: 16 }), want: '4 × xlarge', price: 16 },
  { name: 'horizontal-first: the smallest size while it fits under max', input: base({ order: 'horizontal-first' }), want: '6 × small', price: 6 },
  // Demand 14: small needs 14 > max 10 → large × 7.
  { name: 'horizontal-first: up one rung once max is reached', input: base({ order: 'horizontal-first', demandCpu: 14 }), want: '7 × large', price: 14 },
  // Demand 50: small 10 (10 cores), large 10 (20), xlarge 10 (40) → the most capacity.
  { name: 'infeasible: the largest plan, not meeting demand', input: base({ demandCpu: 50 }), want: '10 × xlarge', price: 40, meets: false },
  // Demand 0, min 2 → 2 × small (the cheapest of 2 × anything).
  { name: 'no demand: min instances of the current size', input: base({ demandCpu: 0, min: 2 }), want: '2 × small', price: 2 },
  // Demand 6 exactly = 3 × 2 cpu: not rounded up to 4 (6 / 2 = 3).
  { name: 'exact multiple: no extra instance', input: base({ ladder: priced, currentSize: small, demandCpu: 6 }), want: '3 × large', price: 2.25 },
  // small (1024 MiB) is below 1500 MiB: large × 3 = 6 vs xlarge × 2 = 8 → large.
  { name: 'minMemoryMiB rules out small', input: base({ minMemoryMiB: 1500 }), want: '3 × large', price: 6 },
  // No rung has 5000 MiB: the one with the most memory (xlarge, 4096) stands in: 6 / 4 → 2.
  { name: 'minMemoryMiB above every rung: the most memory, and it says the demand is not met', input: base({ minMemoryMiB: 5000 }), want: '2 × xlarge', price: 8, meets: false },
  // Room for 1 more instance: small would need 6 > 4 + 1; large × 3 = 6 → large.
  { name: 'quota room of one instance: a bigger size instead of more', input: base({ quotaRoom: { instances: 1 } }), want: '3 × large', price: 6 },
  // Held 4 cores + 2 room = 6: small ≤ 6, large ≤ 3, xlarge ≤ 1; demand 8 fits none. Capacities 6, 6, 4;
  // small 6/h vs large 6 + 6 × 360/3600 = 6.6 → small.
  { name: 'quota room of 2 cores: the largest plan within the quota', input: base({ demandCpu: 8, quotaRoom: { cpu: 2 }, startupSeconds: 360 }), want: '6 × small', price: 6, meets: false },
  // An off-ladder current size (1 cpu/768 MiB) is a candidate and, on a tie, kept.
  { name: 'an off-ladder current size is a candidate', input: base({ currentSize: { name: 'custom', cpu: 1, memoryMiB: 768 }, demandCpu: 4 }), want: '4 × custom', price: 4 },
]
for (const c of named) {
  test(`planFleet: ${c.name}`, () => {
    const p = planFleet(c.input)
    assert.equal(`${p.count} × ${p.size.name ?? '?'}`, c.want)
    assert.ok(Math.abs(p.pricePerHour - c.price) < 1e-9, `price ${p.pricePerHour}`)
    assert.equal(p.meetsDemand, c.meets ?? true)
    check(c.input, c.name)
  })
}

test('planFleet detail: demand, plan and price, and an unmet demand says so', () => {
  assert.equal(planFleet(base({ ladder: priced, currentSize: small })).detail, 'mixed (cheapest): 6 cores needed → 3 × large 2 cpu/2048 MiB at 2.25/h')
  assert.equal(planFleet(base({ demandCpu: 50 })).detail, 'mixed (cheapest): 50 cores needed → 10 × xlarge 4 cpu/4096 MiB at 40/h (largest plan within limits; does not meet demand)')
})

/** Numerical Recipes' LCG: deterministic, so every run checks the same cases. */
function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** Some of instances, cpu and memory room; negative instance room is a fleet over its quota. */
function room(int: (lo: number, hi: number) => number, chance: (p: number) => boolean): QuotaRoom {
  return {
    ...(chance(0.5) ? { instances: int(-2, 6) } : {}),
    ...(chance(0.5) ? { cpu: int(0, 24) } : {}),
    ...(chance(0.5) ? { memoryMiB: int(0, 16) * 512 } : {}),
  }
}

function generated(count: number, seed: number): { label: string; input: PlanFleetInput }[] {
  const rnd = lcg(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T
  const chance = (p: number) => rnd() < p
  const orders: MixedOrder[] = ['cheapest', 'vertical-first', 'horizontal-first']
  const out: { label: string; input: PlanFleetInput }[] = []
  for (let k = 0; k < count; k++) {
    const withPrices = chance(0.5)
    // Cpu and prices are multiples of 1/8, so every sum and product below is exact in binary.
    const price = (cpu: number) => (withPrices ? { pricePerHour: cpu * pick([0, 0.25, 0.5, 0.625, 0.75, 1]) } : {})
    const cpus = [0.5, 1, 2, 4, 8].filter(() => chance(0.6))
    if (cpus.length === 0) cpus.push(pick([0.5, 1, 2, 4, 8]))
    const ladder: Size[] = cpus.map((cpu) => ({ cpu, memoryMiB: cpu * pick([256, 512, 1024, 2048]), ...price(cpu) }))
    const currentSize: Size = chance(0.75) ? pick(ladder) : { cpu: pick([0.5, 1, 2, 4, 8]), memoryMiB: pick([384, 768, 1536, 3072]), ...price(1) }
    const min = int(0, 3)
    const max = int(Math.max(1, min), 12)
    const currentCount = int(0, 12)
    const demandCpu = chance(0.5) ? int(0, 14) * currentSize.cpu : int(0, 160) / 4
    const quotaRoom = chance(0.4) ? room(int, chance) : undefined
    const minMemoryMiB = chance(0.4) ? pick([...ladder.map((s) => s.memoryMiB), 300, 1000, 5000, 20000]) : undefined
    const input: PlanFleetInput = {
      demandCpu,
      ladder,
      currentSize,
      currentCount,
      min,
      max,
      order: pick(orders),
      startupSeconds: pick([0, 30, 360, 1800]),
      ...(chance(0.2) ? { amortisationSeconds: pick([900, 7200]) } : {}),
      ...(minMemoryMiB === undefined ? {} : { minMemoryMiB }),
      ...(quotaRoom === undefined ? {} : { quotaRoom }),
    }
    out.push({ label: `#${k} ${input.order}${withPrices ? ' priced' : ''}${minMemoryMiB === undefined ? '' : ' minMemory'}${quotaRoom === undefined ? '' : ' quota'}`, input })
  }
  return out
}

const table = generated(600, 20261201)

test('the generated table covers every order, prices, memory, quota and infeasible demand', () => {
  // A table that never reaches a branch would pass vacuously.
  const plans = table.map((c) => ({ c, p: planFleet(c.input) }))
  for (const order of ['cheapest', 'vertical-first', 'horizontal-first'] as const) {
    assert.ok(plans.filter(({ c }) => c.input.order === order).length > 100, order)
    assert.ok(plans.some(({ c, p }) => c.input.order === order && p.size !== c.input.currentSize && p.meetsDemand), `${order} resizes`)
  }
  assert.ok(plans.filter(({ p }) => !p.meetsDemand).length > 20, 'infeasible')
  assert.ok(plans.filter(({ c }) => c.input.quotaRoom !== undefined).length > 100, 'quota')
  assert.ok(plans.filter(({ c }) => c.input.minMemoryMiB !== undefined).length > 100, 'memory')
  assert.ok(plans.filter(({ c }) => c.input.ladder.every((s) => s.pricePerHour !== undefined)).length > 200, 'prices')
})

for (const c of table) {
  test(`planFleet matches the brute-force search: ${c.label}`, () => {
    check(c.input, c.label)
  })
}

test('planFleet: a memory need above every rung is said in the detail', () => {
  const p = planFleet(base({ minMemoryMiB: 5000 }))
  assert.match(p.detail, /no size has the 5000 MiB an instance needs; the most memory there is/)
})
