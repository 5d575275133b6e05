import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserModule } from '../support/browser-module.ts'

const dom = await browserModule<{
  num: (n: number | undefined, digits?: number) => string
  duration: (ms: number) => string
  phaseCounts: (i: readonly { phase: string }[]) => string
  lastAvg: (answer: unknown, name: string) => number | undefined
}>('dom.js')

const numbers = [
  { n: 12.345, digits: 1, want: '12.3' },
  { n: 12.0, digits: 1, want: '12' },
  { n: 0.125, digits: 2, want: '0.13' },
  { n: undefined, digits: 1, want: '–' },
  { n: Number.NaN, digits: 1, want: '–' },
] as const
for (const c of numbers) test(`num(${c.n}, ${c.digits}) = ${c.want}`, () => { assert.equal(dom.num(c.n, c.digits), c.want); })

const durations = [
  { ms: 45_000, want: '45 s' },
  { ms: 89_000, want: '89 s' },
  { ms: 12 * 60_000, want: '12 min' },
  { ms: 3.5 * 3_600_000, want: '3.5 h' }, // 12,600 s ≥ 5,400 s: hours
  { ms: 3 * 86_400_000, want: '3 d' },
  { ms: -5, want: '0 s' },
] as const
for (const c of durations) test(`duration(${c.ms}) = ${c.want}`, () => { assert.equal(dom.duration(c.ms), c.want); })

test('phaseCounts: in lifecycle order, none said so', () => {
  assert.equal(dom.phaseCounts([{ phase: 'draining' }, { phase: 'in-service' }, { phase: 'pending' }, { phase: 'in-service' }]), '1 pending · 2 in-service · 1 draining')
  assert.equal(dom.phaseCounts([]), 'no instances')
})

test('lastAvg: the newest bucket of a series, undefined without one', () => {
  const answer = { series: { rps: { points: [{ avg: 1 }, { avg: 2 }] }, p95: { points: [] } } }
  assert.equal(dom.lastAvg(answer, 'rps'), 2)
  assert.equal(dom.lastAvg(answer, 'p95'), undefined)
  assert.equal(dom.lastAvg(answer, 'nope'), undefined)
  assert.equal(dom.lastAvg(undefined, 'rps'), undefined)
})
