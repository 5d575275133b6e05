/**
 * The pure parts `tide replay` and `tide apply` share (src/cli/config-changes.ts): the line diff,
 * spec comparison whatever the key order, and the side-by-side replay table. The requests
 * themselves run against a real tide in test/cli/replay.test.ts and apply.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ReplayResult } from '../../src/app/replay.ts'
import { lineDiff, replayText, sameSpec } from '../../src/cli/config-changes.ts'
import { GroupSchema } from '../../src/spec/schema.ts'

const diffs = [
  { name: 'equal texts: no diff', before: 'a\nb\n', after: 'a\nb\n', want: '' },
  { name: 'one line changed, context around it', before: 'a\nb\nc\nd\ne\n', after: 'a\nb\nC\nd\ne\n', want: '  a\n  b\n- c\n+ C\n  d\n  e\n' },
  { name: 'far apart changes: hunks with … between', before: 'a\nb\nc\nd\ne\nf\ng\nh\n', after: 'A\nb\nc\nd\ne\nf\ng\nH\n', want: '- a\n+ A\n  b\n  c\n  …\n  f\n  g\n- h\n+ H\n' },
  { name: 'from nothing: every line added', before: '', after: 'x\ny\n', want: '+ x\n+ y\n' },
  { name: 'a line inserted', before: 'a\nc\n', after: 'a\nb\nc\n', want: '  a\n+ b\n  c\n' },
] as const
for (const c of diffs) {
  test(`lineDiff: ${c.name}`, () => {
    assert.equal(lineDiff(c.before, c.after), c.want)
  })
}

test('sameSpec ignores key order, not values', () => {
  const a = GroupSchema.parse({ group: 'g', provider: 'sim', replicas: { min: 1, max: 3 } })
  const { replicas, ...rest } = a
  const reordered = JSON.parse(JSON.stringify({ replicas, ...rest })) as typeof a
  assert.equal(sameSpec(a, reordered), true)
  assert.equal(sameSpec(a, { ...a, replicas: { ...a.replicas, max: 4 } }), false)
})

test('replayText: both figure sets side by side, the change, the notes', () => {
  const figures = { costInstanceHours: 10, costRatioToOracle: 1.1, sloViolatedPercent: 2.5, failedRequestsPercent: 0.1, peakInstances: 4, decisions: { up: 3, down: 2, hold: 100 }, scaleOutActions: 3, scaleInActions: 2 }
  const r: ReplayResult = {
    group: 'shop-web',
    fromMs: Date.UTC(2026, 10, 11, 0, 0),
    toMs: Date.UTC(2026, 10, 12, 0, 0),
    demandPoints: 1440,
    current: figures,
    proposed: { ...figures, costInstanceHours: 12, costRatioToOracle: 1.32, sloViolatedPercent: 0.5, failedRequestsPercent: 0, peakInstances: 6, decisions: { up: 5, down: 4, hold: 96 } },
    delta: { costInstanceHours: 2, costPercent: 20, sloViolatedPercent: -2, failedRequestsPercent: -0.1, peakInstances: 2 },
    model: { instanceRps: 50, startupSeconds: 30, sloP95Ms: 200, tickSeconds: 1 },
    notes: ['1440 minute means'],
    elapsedMs: 1234,
  }
  assert.equal(
    replayText(r),
    [
      'shop-web: replay of 24.0 h of recorded demand (1440 points, 2026-11-11 00:00 – 2026-11-12 00:00 UTC), in 1.2 s',
      '                          IN FORCE  PROPOSED  CHANGE',
      '  cost, instance-hours    10.00     12.00     +20.0 %',
      '  cost ÷ oracle           1.10      1.32',
      '  SLO violated            2.50 %    0.50 %    -2.00 pp',
      '  failed requests         0.100 %   0.000 %   -0.100 pp',
      '  peak instances          4         6         +2',
      '  decisions up/down/hold  3/2/100   5/4/96',
      '  note: 1440 minute means',
      '',
    ].join('\n'),
  )
})
