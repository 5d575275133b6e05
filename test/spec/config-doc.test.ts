// docs/config.md must stay true to src/spec/schema.ts: every field documented, every
// documented field real, and every scalar default shown as the schema has it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { z } from 'zod'
import { GlobalSchema, GroupSchema } from '../../src/spec/schema.ts'

interface Field {
  path: string
  /** JSON of the default, undefined when the field has none. */
  defaultJson: string | undefined
  required: boolean
}

interface Def {
  type: string
  shape?: Record<string, z.ZodType>
  innerType?: z.ZodType
  element?: z.ZodType
  valueType?: z.ZodType
  options?: z.ZodType[]
  in?: z.ZodType
  defaultValue?: unknown
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def

/** Every field path of a schema: `a.b`, `list[].c`, `map.*.d`; union branches merged. */
function fieldsOf(schema: z.ZodType): Field[] {
  const out = new Map<string, Field>()
  const walk = (s: z.ZodType, path: string, defaultJson: string | undefined, required: boolean): void => {
    const d = defOf(s)
    switch (d.type) {
      case 'default':
      case 'prefault': {
        const v = typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue
        walk(d.innerType!, path, JSON.stringify(v), false)
        return
      }
      case 'optional':
        walk(d.innerType!, path, defaultJson, false)
        return
      case 'nullable':
      case 'readonly':
        walk(d.innerType!, path, defaultJson, required)
        return
      case 'pipe':
        walk(d.in!, path, defaultJson, required)
        return
      default:
    }
    if (path !== '' && !path.endsWith('[]') && !path.endsWith('.*') && !out.has(path)) out.set(path, { path, defaultJson, required })
    if (d.type === 'object') for (const [k, v] of Object.entries(d.shape ?? {})) walk(v, path === '' ? k : `${path}.${k}`, undefined, true)
    else if (d.type === 'array') walk(d.element!, `${path}[]`, undefined, true)
    else if (d.type === 'record') walk(d.valueType!, `${path}.*`, undefined, true)
    else if (d.type === 'union') for (const o of d.options ?? []) walk(o, path, undefined, required)
  }
  walk(schema, '', undefined, true)
  return [...out.values()]
}

interface Row {
  defaultCell: string
}

/** The table rows of docs/config.md: `| \`path\` | type | default | meaning |`. */
function docRows(): Map<string, Row> {
  const text = readFileSync(fileURLToPath(new URL('../../docs/config.md', import.meta.url)), 'utf8')
  const rows = new Map<string, Row>()
  for (const line of text.split('\n')) {
    const m = /^\| `([^`]+)` \| (.*)$/.exec(line)
    if (m === null) continue
    // Cells are separated by " | "; an escaped \| inside a cell is not a separator.
    const cells = m[2]!.split(/(?<!\\) \| /)
    rows.set(m[1]!, { defaultCell: (cells[1] ?? '').trim() })
  }
  return rows
}

const fields = [...fieldsOf(GroupSchema), ...fieldsOf(GlobalSchema)]
const rows = docRows()

test('the schema walk finds the fields (a sanity check of the walker)', () => {
  const paths = fields.map((f) => f.path)
  for (const p of ['group', 'replicas.min', 'metrics[].target.valueMs', 'quotas.perProvider.*.maxCpu', 'api.tokenEnv']) assert.ok(paths.includes(p), p)
})

test('every schema field has a row in docs/config.md', () => {
  const missing = fields.map((f) => f.path).filter((p) => !rows.has(p))
  assert.deepEqual(missing, [], 'document these fields in docs/config.md')
})

test('every documented field exists in the schema', () => {
  const known = new Set(fields.map((f) => f.path))
  const stale = [...rows.keys()].filter((p) => !known.has(p))
  assert.deepEqual(stale, [])
})

test('documented defaults match the schema', () => {
  const wrong: string[] = []
  for (const f of fields) {
    const row = rows.get(f.path)
    if (row === undefined) continue
    const cell = row.defaultCell
    if (f.defaultJson === undefined) {
      const want = f.required ? 'required' : '—'
      if (cell !== want) wrong.push(`${f.path}: doc says ${cell}, schema: ${want}`)
      continue
    }
    const value: unknown = JSON.parse(f.defaultJson)
    // Scalars are shown bare (`8080`, `p2c`); objects as their JSON or "see fields" when every part has its own row.
    const shown = typeof value === 'string' ? `\`${value}\`` : `\`${f.defaultJson}\``
    const ok = cell === shown || (typeof value === 'object' && value !== null && !Array.isArray(value) && cell === 'see fields')
    if (!ok) wrong.push(`${f.path}: doc says ${cell}, schema default ${shown}`)
  }
  assert.deepEqual(wrong, [])
})
