/**
 * tide → HPA v2: what overlaps carries over (checked by importing the result back), and every
 * setting that does not is named in a note.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportHpa } from '../../src/spec/hpa-export.ts'
import { convertHpa } from '../../src/spec/hpa-import.ts'
import { GroupSchema } from '../../src/spec/schema.ts'

const web = GroupSchema.parse({
  group: 'web',
  provider: 'kubernetes',
  kubernetes: { namespace: 'shop', deployment: 'web-deploy' },
  replicas: { min: 2, max: 30 },
  metrics: [
    { type: 'cpu', target: { averageUtilization: 60 } },
    { type: 'memory', target: { averageValueMiB: 500 } },
    { type: 'external', query: 'queue_depth', source: { type: 'prometheus', url: 'http://127.0.0.1:9090' }, target: { averageValue: 30 } },
  ],
  behavior: { scaleDown: { stabilizationWindowSeconds: 600, policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }], selectPolicy: 'Min' } },
})

test('what overlaps converts: target, bounds, metrics, behavior; importing it back gives the same', () => {
  const r = exportHpa([web])
  const m = r.manifests[0] as { metadata: unknown; spec: { scaleTargetRef: unknown; minReplicas: number; maxReplicas: number; metrics: unknown[] } }
  assert.deepEqual(m.metadata, { name: 'web', namespace: 'shop' })
  assert.deepEqual(m.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-deploy' })
  assert.equal(m.spec.minReplicas, 2)
  assert.equal(m.spec.maxReplicas, 30)
  assert.deepEqual(m.spec.metrics[0], { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } })
  assert.deepEqual(m.spec.metrics[1], { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } })
  const back = convertHpa(r.yaml, 'exported.yaml').groups[0]!
  assert.deepEqual(back.kubernetes, { namespace: 'shop', deployment: 'web-deploy' })
  assert.deepEqual(back.replicas, { min: 2, max: 30 })
  assert.deepEqual(back.metrics?.slice(0, 2), [
    { type: 'cpu', target: { averageUtilization: 60 } },
    { type: 'memory', target: { averageValueMiB: 500 } },
  ])
  assert.deepEqual(GroupSchema.parse(back).behavior, web.behavior)
  assert.deepEqual(r.notes.map((n) => n.field), ['metrics[2]'])
})

test('what does not convert is named, field by field', () => {
  const g = GroupSchema.parse({
    group: 'shop',
    provider: 'local',
    launch: { command: ['node', 's.js'] },
    replicas: { min: 0, max: 5 },
    metrics: [{ type: 'latency', target: { valueMs: 200 } }],
    steps: [{ metric: { type: 'rps' }, above: 100, change: { type: 'Pods', value: 1 } }],
    schedules: [{ name: 'sale', start: '2026-11-11T12:00:00+08:00', end: '2026-11-11T15:00:00+08:00', replicas: { min: 3 } }],
    predictive: { mode: 'forecastAndScale' },
    strategy: 'mixed',
    sizes: [{ cpu: 1, memoryMiB: 512 }, { cpu: 2, memoryMiB: 1024 }],
    syncPeriodSeconds: 5,
  })
  const r = exportHpa([g])
  assert.deepEqual(r.notes.map((n) => n.field).sort(), ['metrics', 'metrics[0]', 'predictive', 'provider', 'replicas.min', 'schedules', 'steps', 'strategy', 'syncPeriodSeconds', 'vertical'].sort())
  assert.equal((r.manifests[0] as { spec: { minReplicas: number } }).spec.minReplicas, 1)
  assert.ok(r.notes.every((n) => n.group === 'shop' && n.message.length > 10))
})
