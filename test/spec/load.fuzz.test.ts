/**
 * Fuzzing the YAML readers (tide.yaml's parseConfig, tide import's convertHpa) with fast-check:
 * binary garbage, random text, random YAML-shaped values, and valid configs with bytes flipped,
 * cut or repeated. Each input must give a result or a TIDE_ERR_* error (ConfigError,
 * HpaImportError), never another exception, in bounded time. Fixed seeds: a failure prints its
 * seed and the shrunk input.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { isTideError } from '../../src/errors.ts'
import { convertHpa } from '../../src/spec/hpa-import.ts'
import { parseConfig } from '../../src/spec/load.ts'

const SEED = 1313
const VALID = `group: shop
provider: local
launch: { command: [./run.sh], env: { A: b } }
replicas: { min: 1, max: 10 }
metrics:
  - type: cpu
    target: { averageUtilization: 60 }
  - type: latency
    percentile: 95
    target: { valueMs: 200 }
behavior:
  scaleUp: { policies: [{ type: Pods, value: 4, periodSeconds: 15 }] }
schedules:
  - { name: sale, cron: "0 12 * * *", durationMinutes: 60, replicas: { min: 4 } }
---
quotas: { maxInstances: 20 }
`
const HPA = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: shop }
spec:
  scaleTargetRef: { kind: Deployment, name: shop }
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } }
`

/** Whatever the text, a result or a TIDE_ERR_* error; the time is bounded per input. */
function readsCleanly(read: (text: string) => unknown, code: string): (text: string) => void {
  return (text) => {
    const started = performance.now()
    try {
      read(text)
    } catch (err) {
      if (!isTideError(err)) throw new Error(`not a TideError for ${JSON.stringify(text.slice(0, 200))}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
      assert.equal(err.code, code)
      assert.ok(err.message.length < 100_000, 'the message stays short')
    }
    assert.ok(performance.now() - started < 20_000, 'bounded time')
  }
}

/** A text with random edits: bytes replaced, cut, or a slice repeated. */
function mutated(base: string) {
  return fc
    .array(fc.record({ at: fc.nat({ max: base.length }), kind: fc.constantFrom('replace', 'cut', 'repeat', 'insert'), len: fc.integer({ min: 1, max: 40 }), text: fc.string({ maxLength: 8 }) }), { minLength: 1, maxLength: 6 })
    .map((edits) => {
      let s = base
      for (const e of edits) {
        const at = Math.min(e.at, s.length)
        if (e.kind === 'replace') s = s.slice(0, at) + e.text + s.slice(at + e.text.length)
        else if (e.kind === 'cut') s = s.slice(0, at) + s.slice(at + e.len)
        else if (e.kind === 'repeat') s = s.slice(0, at) + s.slice(at, at + e.len).repeat(1 + (e.len % 50)) + s.slice(at)
        else s = s.slice(0, at) + e.text + s.slice(at)
      }
      return s
    })
}

const yamlish = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')) },
  { weight: 3, arbitrary: fc.anything({ maxDepth: 4 }).map((v) => stringify(v === undefined ? null : v)) },
  { weight: 3, arbitrary: fc.dictionary(fc.constantFrom('group', 'provider', 'replicas', 'metrics', 'routing', 'behavior', 'schedules', 'launch', 'slo', 'x'), fc.anything({ maxDepth: 3 })).map((v) => stringify(v)) },
  { weight: 4, arbitrary: mutated(VALID) },
  { weight: 2, arbitrary: fc.stringMatching(/^[\s\-:[\]{},&*!|>'"%@`#?a-z0-9]{0,300}$/) },
)

test('parseConfig: random, binary, YAML-shaped and mutated configs give a config or a ConfigError', () => {
  fc.assert(fc.property(yamlish, readsCleanly((t) => parseConfig(t, 'fuzz.yaml'), 'TIDE_ERR_CONFIG')), { seed: SEED, numRuns: 400 })
})

test('convertHpa: random, binary and mutated manifests give groups or an HpaImportError', () => {
  const manifests = fc.oneof(yamlish, mutated(HPA), fc.anything({ maxDepth: 4 }).map((spec) => stringify({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec })))
  fc.assert(fc.property(manifests, readsCleanly((t) => convertHpa(t, 'fuzz.yaml'), 'TIDE_ERR_HPA_IMPORT')), { seed: SEED + 1, numRuns: 400 })
})

test('huge inputs: long lines, many documents, deep nesting, many keys give an error in bounded time', () => {
  const huge = fc.constantFrom(
    `group: ${'a'.repeat(900_000)}\n`,
    '---\n'.repeat(200_000),
    `${'- '.repeat(20_000)}x\n`,
    `a: ${'['.repeat(50_000)}`,
    `${Array.from({ length: 60_000 }, (_, i) => `k${i}: &a${i} 1`).join('\n')}\n`,
    `x: ${'"\\u0041'.repeat(1)}${'\\'.repeat(500_000)}"\n`,
  )
  fc.assert(fc.property(huge, readsCleanly((t) => parseConfig(t, 'fuzz.yaml'), 'TIDE_ERR_CONFIG')), { seed: SEED + 2, numRuns: 6 })
})
