// Every number of tide.yaml has a sane upper bound (issue 13: `syncPeriodSeconds: 1e308`
// validated and then spun Node's timers every millisecond), shown in docs/config.md's table.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import { parseConfig } from '../../src/spec/load.ts'
import { BOUNDS, GlobalSchema, GroupSchema } from '../../src/spec/schema.ts'
import { fmtBound } from './bounds-format.ts'

interface Def {
  type: string
  shape?: Record<string, z.ZodType>
  innerType?: z.ZodType
  element?: z.ZodType
  valueType?: z.ZodType
  options?: readonly z.ZodType[]
  in?: z.ZodType
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def

/** Every number field of a schema with its bounds (`a.b`, `list[].c`, `map.*.d`; union branches each). */
function numberFields(schema: z.ZodType): { path: string; min: number; max: number }[] {
  const out: { path: string; min: number; max: number }[] = []
  const walk = (s: z.ZodType | undefined, p: string): void => {
    if (s === undefined) return
    const d = defOf(s)
    switch (d.type) {
      case 'number': {
        const n = s as unknown as { minValue: number | null; maxValue: number | null }
        out.push({ path: p, min: n.minValue ?? Number.NEGATIVE_INFINITY, max: n.maxValue ?? Number.POSITIVE_INFINITY })
        return
      }
      case 'default':
      case 'optional':
      case 'nullable':
      case 'prefault':
      case 'readonly':
        walk(d.innerType, p)
        return
      case 'pipe':
        walk(d.in, p)
        return
      case 'union':
        for (const o of d.options ?? []) walk(o, p)
        return
      case 'array':
        walk(d.element, `${p}[]`)
        return
      case 'record':
        walk(d.valueType, `${p}.*`)
        return
      case 'object':
        for (const [k, v] of Object.entries(d.shape ?? {})) walk(v, p === '' ? k : `${p}.${k}`)
        return
      default:
    }
  }
  walk(schema, '')
  return out
}

const fields = [...numberFields(GroupSchema), ...numberFields(GlobalSchema)]

test('the schema has number fields to check (the walk finds them)', () => {
  assert.ok(fields.length > 80, `${fields.length} fields`)
  assert.ok(fields.some((f) => f.path === 'syncPeriodSeconds'))
})

test('every number in tide.yaml has a sane upper bound and a lower one', () => {
  // A bound of 2^53 (what .int() alone gives) is no bound: at most 2^40 (a TiB in bytes).
  const unbounded = fields.filter((f) => !(f.max <= 2 ** 40) || !(f.min >= -(2 ** 40)))
  assert.deepEqual(unbounded, [])
})

test('durations that become timers stay within a day (a Node timer waits at most 24.8 days)', () => {
  const timers = fields.filter((f) => /Seconds$/.test(f.path) && f.path !== 'routing.retryAfterSeconds')
  assert.ok(timers.length > 15)
  for (const f of timers) assert.ok(f.max <= BOUNDS.daySeconds, `${f.path} ≤ ${f.max}`)
})

test("docs/config.md shows each number's upper bound in its type cell", () => {
  const text = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')
  const maxes = new Map<string, number>()
  for (const f of fields) maxes.set(f.path, Math.max(maxes.get(f.path) ?? Number.NEGATIVE_INFINITY, f.max))
  for (const [path, max] of maxes) {
    const row = text.split('\n').find((l) => l.startsWith(`| \`${path}\` |`))
    assert.ok(row !== undefined, `${path} has a row`)
    const typeCell = row.split(' | ')[1] ?? ''
    assert.ok(typeCell.endsWith(`≤ ${fmtBound(max)}`), `${path}: type cell "${typeCell}" should end with ≤ ${fmtBound(max)}`)
  }
})

/** The attacker's numbers of issue 13 and their kind: each a ConfigError naming the field and the bound. */
const probes: { yaml: string; want: string }[] = [
  { yaml: 'syncPeriodSeconds: 1e308', want: 'syncPeriodSeconds: must be ≤ 3600, got 1e+308' },
  { yaml: 'syncPeriodSeconds: .inf', want: 'syncPeriodSeconds: expected number, got' },
  { yaml: 'replicas: { max: 9007199254740991 }', want: 'replicas.max: must be ≤ 10000, got 9007199254740991' },
  { yaml: 'routing: { drainSeconds: 1e12 }', want: 'routing.drainSeconds: must be ≤ 86400, got 1000000000000' },
  { yaml: 'health: { intervalSeconds: 1e9 }', want: 'health.intervalSeconds: must be ≤ 3600, got 1000000000' },
  { yaml: 'metrics: [{ type: rps, target: { averageValue: 1e300 } }]', want: 'metrics[0].target.averageValue: must be ≤ 1000000000000, got 1e+300' },
  { yaml: 'steps: [{ metric: { type: rps }, above: -1e300, change: { type: Pods, value: 1 } }]', want: 'steps[0].above: must be ≥ -1000000000000, got -1e+300' },
  { yaml: 'lifecycle: { backup: { command: [x], timeoutSeconds: 1e10 } }', want: 'lifecycle.backup.timeoutSeconds: must be ≤ 86400, got 10000000000' },
]

for (const p of probes) {
  test(`tide.yaml: ${p.yaml} is refused with the bound`, () => {
    assert.throws(
      () => parseConfig(`group: web\nprovider: sim\n${p.yaml}\n`, 't.yaml'),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'TIDE_ERR_CONFIG')
        assert.ok(err.message.includes(p.want), err.message)
        return true
      },
    )
  })
}

test('the bounds leave room for every default and every example', () => {
  const spec = GroupSchema.parse({ group: 'web', provider: 'sim' })
  assert.equal(spec.syncPeriodSeconds, 15)
  assert.ok(parseConfig('group: web\nprovider: sim\nsyncPeriodSeconds: 3600\nreplicas: { max: 10000 }\n', 't.yaml').groups[0])
})
