// The attacker's YAML of issue 13 against every YAML reader (tide.yaml, tide import): each gets a
// clear error naming the file and place, in bounded time, and nothing crashes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { convertHpa } from '../../src/spec/hpa-import.ts'
import { parseConfig } from '../../src/spec/load.ts'
import { MAX_YAML_ALIASES, MAX_YAML_BYTES, MAX_YAML_DEPTH, parseYaml, yamlProblems, yamlValue } from '../../src/spec/safe-yaml.ts'
import { runTide } from '../support/run-tide.ts'

/** The "billion laughs": 9 levels of 10 aliases each, 10^9 strings once expanded. */
function aliasBomb(prefix: string): string {
  const lines = [prefix, '  a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
  for (let i = 1; i <= 9; i++) lines.push(`  a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(',')}]`)
  return `${lines.join('\n')}\n`
}
const hpaBomb = aliasBomb('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: shop}\nspec:\n  maxReplicas: 5')
const configBomb = aliasBomb('group: web\nprovider: sim\nsimulation:')

/** Text that must be refused, by every reader, with the message it must carry. */
const hostile: { name: string; text: string; message: RegExp }[] = [
  { name: 'an alias bomb (tide.yaml)', text: configBomb, message: /too many aliases: their expansions exceed 100 \(an alias bomb\?\)/ },
  { name: 'an alias bomb (HPA manifest)', text: hpaBomb, message: /too many aliases: their expansions exceed 100 \(an alias bomb\?\)/ },
  { name: 'flow sequences nested 100 000 deep', text: `group: web\nx: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, message: /nesting too deep \(at most 64 levels\)/ },
  { name: 'flow mappings nested 5 000 deep', text: `group: web\nx: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`, message: /nesting too deep \(at most 64 levels\)/ },
  { name: 'block mappings nested 100 deep', text: `group: web\n${Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`, message: /nesting too deep \(at most 64 levels\)/ },
  { name: 'more than 1 MiB of text', text: `group: web\n# ${'x'.repeat(MAX_YAML_BYTES)}\n`, message: /more than the 1048576 bytes \(1 MiB\) tide reads/ },
  { name: 'an alias without its anchor (not taken for a bomb)', text: 'group: web\nprovider: sim\nx: *nope\n', message: /YAML: Unresolved alias \(the anchor must be set before the alias\): nope/ },
  { name: '200 000 documents', text: '---\n'.repeat(200_000), message: /more than 1000 documents/ },
  { name: 'a repeated key', text: 'group: web\nprovider: sim\nprovider: local\n', message: /Map keys must be unique: "provider" is repeated/ },
]

for (const c of hostile) {
  test(`tide.yaml with ${c.name} is a ConfigError naming the file`, () => {
    const started = performance.now()
    assert.throws(() => parseConfig(c.text, 'evil.yaml'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TIDE_ERR_CONFIG')
      assert.match(err.message, /evil\.yaml/)
      assert.match(err.message, c.message)
      return true
    })
    assert.ok(performance.now() - started < 20_000, 'bounded time')
  })
  test(`tide import of ${c.name} is an HpaImportError naming the file`, () => {
    assert.throws(() => convertHpa(c.text, 'evil.yaml'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TIDE_ERR_HPA_IMPORT')
      assert.match(err.message, /^evil\.yaml/)
      // A repeated key in a manifest is refused too, but a document without an HPA may fail earlier.
      if (!c.name.includes('repeated')) assert.match(err.message, c.message)
      return true
    })
  })
}

test('the alias cap still lets a config use a few aliases', () => {
  const text = 'group: web\nprovider: sim\nhealth: &h { path: /ready }\nsimulation: { instanceRps: 50 }\n'
  assert.equal(parseConfig(text, 't.yaml').groups[0]?.health.path, '/ready')
  const { documents } = parseYaml(`a: &x [1]\nb: [${Array.from({ length: MAX_YAML_ALIASES / 2 }, () => '*x').join(',')}]\n`)
  const doc = documents[0]
  assert.ok(doc !== undefined)
  assert.deepEqual(yamlProblems(doc), [])
  assert.ok('value' in yamlValue(doc))
})

test('nesting at the depth limit is accepted, one deeper is refused', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
  const ok = parseYaml(nested(MAX_YAML_DEPTH)).documents[0]
  const deep = parseYaml(nested(MAX_YAML_DEPTH + 1)).documents[0]
  assert.ok(ok !== undefined && deep !== undefined)
  assert.deepEqual(yamlProblems(ok), [])
  assert.match(yamlProblems(deep)[0]?.message ?? '', /nesting too deep/)
})

test('100 000 keys in one mapping are refused in bounded time, every one named, the message short', () => {
  // About 0.9 MB: under the 1 MiB limit, so every key is checked.
  const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join('\n')
  const started = performance.now()
  assert.throws(
    () => parseConfig(`group: web\nprovider: sim\n${keys}\n`, 'keys.yaml'),
    (err: Error & { issues?: readonly unknown[] }) => {
      assert.equal(err.issues?.length, 100_000)
      assert.match(err.message, /^100000 errors in keys\.yaml:\n {2}keys\.yaml:3:1: k0: unknown field "k0"/)
      assert.match(err.message, /… and 99900 more/)
      assert.ok(err.message.split('\n').length < 110)
      return true
    },
  )
  // Was 74 s (quadratic duplicate-key check and issue location); a generous bound, not a benchmark.
  assert.ok(performance.now() - started < 20_000, `took ${Math.round(performance.now() - started)} ms`)
})

test('100 000 repeated keys are each found once, in linear time', () => {
  const text = `group: web\n${Array.from({ length: 100_000 }, () => 'provider: sim').join('\n')}\n`
  const started = performance.now()
  const doc = parseYaml(text).documents[0]
  assert.ok(doc !== undefined)
  assert.equal(yamlProblems(doc).length, 99_999)
  assert.ok(performance.now() - started < 20_000)
})

test('tide import of an alias bomb exits 1 with the error, no stack', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-yaml-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }); })
  const file = join(dir, 'hpa.yaml')
  writeFileSync(file, hpaBomb)
  const r = await runTide(['import', file])
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /^tide: .*hpa\.yaml:\d+:\d+: YAML: too many aliases/)
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /)
})
