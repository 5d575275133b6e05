import { test } from 'node:test'
import assert from 'node:assert/strict'
import { explain } from '../../src/engine/explain.ts'

test('a predictive floor below the count held says it never scales in by itself', () => {
  const floor = { policy: 'predictive' as const, replicas: 2, scaleOutOnly: true, reason: 'ForecastAhead', detail: 'predictive: 150 req/s expected within 45 s → 2' }
  const text = explain({ kind: 'hold', from: 5, to: 5, reason: 'DesiredWithinRange', recommendations: [floor], driver: floor, limits: [] })
  assert.equal(text, 'held at 5: predictive: 150 req/s expected within 45 s → 2 (a floor: predictive never scales in by itself)')
  // Above the count it is the plain detail.
  const up = { ...floor, replicas: 7, detail: 'predictive: 600 req/s expected within 45 s → 7' }
  assert.equal(explain({ kind: 'scale', from: 5, to: 7, reason: 'DesiredWithinRange', recommendations: [up], driver: up, limits: [] }), 'scaled 5→7: predictive: 600 req/s expected within 45 s → 7')
})
