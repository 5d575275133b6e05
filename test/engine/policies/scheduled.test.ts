import { test } from 'node:test'
import assert from 'node:assert/strict'
import { activeWindow, cronProblem, lastCronFireMs, scheduledPolicy } from '../../../src/engine/policies/scheduled.ts'
import type { GroupInput, ScheduleSpec } from '../../../src/spec/schema.ts'
import { groupSpec, instances, policyInputFor, signals } from '../fixtures.ts'

type Schedules = NonNullable<GroupInput['schedules']>

const at = (iso: string): number => Date.parse(iso)

function schedule(fields: Schedules[number]): ScheduleSpec {
  const spec = groupSpec({ schedules: [fields] })
  const s = spec.schedules[0]
  assert.ok(s)
  return s
}

// DESIGN.md's campaign: 2026-11-11 12:00–15:00 in +08:00, i.e. 04:00–07:00 UTC.
const double11 = schedule({ name: 'double-11', start: '2026-11-11T12:00:00+08:00', end: '2026-11-11T15:00:00+08:00', replicas: { min: 30 } })
const double11Lead = schedule({ name: 'double-11', start: '2026-11-11T12:00:00+08:00', end: '2026-11-11T15:00:00+08:00', replicas: { min: 30 }, campaign: { leadMinutes: 10 } })
// 09:00 in New York for an hour: 14:00 UTC under EST (−05:00), 13:00 UTC under EDT (−04:00); DST began 2026-03-08.
const nyMorning = schedule({ name: 'ny-morning', cron: '0 9 * * *', durationMinutes: 60, timezone: 'America/New_York', replicas: { min: 5 } })
// Monday 09:00 at UTC+14 (Kiritimati, just west of the date line) is Sunday 19:00 UTC.
const kiritimatiMonday = schedule({ name: 'kiritimati-monday', cron: '0 9 * * 1', durationMinutes: 60, timezone: 'Pacific/Kiritimati', replicas: { min: 3 } })
// DESIGN.md's weekday evening in Shanghai (+08:00, no DST): 19:00–22:00 local = 11:00–14:00 UTC, Mon–Fri.
const weekdayEvening = schedule({ name: 'weekday-evening', cron: '0 19 * * 1-5', durationMinutes: 180, timezone: 'Asia/Shanghai', replicas: { min: 6 } })

const windowCases = [
  { name: 'one-off: active at its start instant', s: double11, at: '2026-11-11T04:00:00Z', active: true },
  { name: 'one-off: inactive a second before start', s: double11, at: '2026-11-11T03:59:59Z', active: false },
  { name: 'one-off: inactive at its end instant', s: double11, at: '2026-11-11T07:00:00Z', active: false },
  { name: 'campaign: opens leadMinutes (10) before start', s: double11Lead, at: '2026-11-11T03:50:00Z', active: true },
  { name: 'campaign: not 11 minutes before start', s: double11Lead, at: '2026-11-11T03:49:00Z', active: false },
  { name: 'cron in New York before DST: 14:30 UTC is 09:30 EST', s: nyMorning, at: '2026-03-06T14:30:00Z', active: true },
  { name: 'cron in New York before DST: 13:30 UTC is 08:30 EST', s: nyMorning, at: '2026-03-06T13:30:00Z', active: false },
  { name: 'cron in New York after DST: 13:30 UTC is 09:30 EDT', s: nyMorning, at: '2026-03-09T13:30:00Z', active: true },
  { name: 'cron in New York after DST: 14:30 UTC is 10:30 EDT, window over', s: nyMorning, at: '2026-03-09T14:30:00Z', active: false },
  { name: 'across the date line: Sunday 19:30 UTC is Monday 09:30 in Kiritimati', s: kiritimatiMonday, at: '2026-11-22T19:30:00Z', active: true },
  { name: 'across the date line: Monday 19:30 UTC is Tuesday in Kiritimati', s: kiritimatiMonday, at: '2026-11-23T19:30:00Z', active: false },
  { name: 'Shanghai weekday evening: Wednesday 12:00 UTC is 20:00 local', s: weekdayEvening, at: '2026-11-25T12:00:00Z', active: true },
  { name: 'Shanghai weekday evening: Saturday 12:00 UTC is the weekend', s: weekdayEvening, at: '2026-11-28T12:00:00Z', active: false },
  { name: 'cron window starts exactly at the fire', s: weekdayEvening, at: '2026-11-25T11:00:00Z', active: true },
] as const

for (const c of windowCases) {
  test(c.name, () => {
    assert.equal(activeWindow(c.s, at(c.at)) !== undefined, c.active)
  })
}

test('lastCronFireMs answers the same from its memo as from a fresh search', () => {
  // Ask in time order (memo hits within a day), then out of order (memo misses): same answers.
  const times = ['2026-03-06T14:30:00Z', '2026-03-06T20:00:00Z', '2026-03-09T13:30:00Z', '2026-03-06T15:00:00Z'].map(at)
  const want = ['2026-03-06T14:00:00Z', '2026-03-06T14:00:00Z', '2026-03-09T13:00:00Z', '2026-03-06T14:00:00Z'].map(at)
  assert.deepEqual(
    times.map((t) => lastCronFireMs('0 9 * * *', 'America/New_York', t)),
    want,
  )
})

test('several active schedules: highest min, lowest max, highest desired, all named', () => {
  const spec = groupSpec({
    replicas: { min: 1, max: 50 },
    schedules: [
      { name: 'a', start: '2026-11-11T00:00:00Z', end: '2026-11-12T00:00:00Z', replicas: { min: 10, max: 40, desired: 12 } },
      { name: 'b', start: '2026-11-11T00:00:00Z', end: '2026-11-12T00:00:00Z', replicas: { min: 20, max: 30, desired: 15 } },
      { name: 'c', start: '2026-11-12T00:00:00Z', end: '2026-11-13T00:00:00Z', replicas: { min: 45 } },
    ],
  })
  const r = scheduledPolicy.propose(policyInputFor({ spec, instances: instances(2), signals: signals({}), nowMs: at('2026-11-11T12:00:00Z') }))
  assert.deepEqual(r?.bounds, { min: 20, max: 30 })
  assert.equal(r.replicas, 15)
  assert.equal(r.detail, 'schedules a (min 10, max 40, desired 12), b (min 20, max 30, desired 15) active')
})

test('no active schedule: no recommendation', () => {
  const spec = groupSpec({ schedules: [{ name: 'a', start: '2026-11-11T00:00:00Z', end: '2026-11-12T00:00:00Z', replicas: { min: 10 } }] })
  assert.equal(scheduledPolicy.propose(policyInputFor({ spec, instances: instances(2), signals: undefined, nowMs: at('2026-11-13T00:00:00Z') })), undefined)
})

const badCases = [
  { name: 'an invalid cron field', cron: '61 * * * *', timezone: 'UTC', says: /minute: 61/ },
  { name: 'an unknown time zone', cron: '0 9 * * *', timezone: 'Mars/Olympus', says: /Mars\/Olympus/ },
] as const
for (const c of badCases) {
  test(`${c.name}: never active, explained, never thrown`, () => {
    assert.match(cronProblem(c.cron, c.timezone) ?? '', c.says)
    const spec = groupSpec({ schedules: [{ name: 'bad', cron: c.cron, timezone: c.timezone, durationMinutes: 60, replicas: { min: 9 } }] })
    const r = scheduledPolicy.propose(policyInputFor({ spec, instances: instances(2), signals: undefined, nowMs: at('2026-11-11T09:30:00Z') }))
    assert.equal(r?.bounds, undefined)
    assert.equal(r?.reason, 'InvalidSchedule')
    assert.match(r.detail, /^schedule bad never applies: /)
  })
}

test('a valid pattern has no problem', () => {
  assert.equal(cronProblem('0 19 * * 1-5', 'Asia/Shanghai'), undefined)
})
