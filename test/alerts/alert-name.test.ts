import assert from 'node:assert/strict'
import { test } from 'node:test'
import { alertNameOf } from '../../src/alerts/alert-name.ts'
import type { TideEvent } from '../../src/store/events.ts'
import { emptyHistory, type Decision } from '../../src/engine/types.ts'

function decision(kind: Decision['kind']): Decision {
  return { group: 'web', atMs: 0, kind, from: 2, to: kind === 'scale' ? 4 : 2, reason: 'DesiredWithinRange', explanation: 'x', recommendations: [], limits: [], scaleInCandidates: [], history: emptyHistory }
}

const cases: { name: string; event: Omit<TideEvent, 'atMs' | 'group' | 'message'>; want: string | undefined }[] = [
  { name: 'a dead instance pages as instance-unhealthy', event: { type: 'instance-failed' }, want: 'instance-unhealthy' },
  { name: 'failed health checks page as instance-unhealthy', event: { type: 'instance-unhealthy' }, want: 'instance-unhealthy' },
  { name: 'a replacement is instance-replaced', event: { type: 'instance-replaced' }, want: 'instance-replaced' },
  { name: 'held at max', event: { type: 'at-max-capacity' }, want: 'at-max-capacity' },
  { name: 'quota stopped a scale-out', event: { type: 'quota-exhausted' }, want: 'quota-exhausted' },
  { name: 'the platform refused a scale-out (no capacity)', event: { type: 'capacity-unavailable' }, want: 'capacity-unavailable' },
  { name: 'a scale decision is scaled', event: { type: 'decision', decision: decision('scale') }, want: 'scaled' },
  { name: 'a hold decision does not alert', event: { type: 'decision', decision: decision('hold') }, want: undefined },
  { name: 'a skip decision does not alert', event: { type: 'decision', decision: decision('skip') }, want: undefined },
  { name: 'the risk radar sees a limit ahead', event: { type: 'risk' }, want: 'risk' },
  { name: 'a risk gone is a risk alert too (eventType tells)', event: { type: 'risk-cleared' }, want: 'risk' },
  { name: 'a launch does not alert', event: { type: 'launch' }, want: undefined },
  { name: 'an adoption does not alert', event: { type: 'adopted' }, want: undefined },
]
for (const c of cases) {
  test(c.name, () => {
    assert.equal(alertNameOf({ atMs: 0, group: 'web', message: 'm', ...c.event }), c.want)
  })
}
