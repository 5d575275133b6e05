/**
 * `tide get`'s tables from API answers (the requests themselves: test/cli/api-client.test.ts,
 * against a real running tide): empty answers, a group before its first tick, paging.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { eventsTable, groupsTable, instancesTable } from '../../src/cli/get.ts'

const running = {
  group: 'shop-web',
  provider: 'local',
  state: 'active',
  paused: true,
  status: {
    desiredReplicas: 3,
    instances: [
      { id: 'shop-web-a', phase: 'in-service', protectedFromScaleIn: true, address: { host: '127.0.0.1', port: 4001 } },
      { id: 'shop-web-b', phase: 'warming' },
    ],
    lastDecision: { reason: 'PausedByOperator' },
    risks: [
      { kind: 'max', etaSeconds: 1200 },
      { kind: 'budget', etaSeconds: 0 },
    ],
  },
}
const fresh = { group: 'api', provider: 'aws', state: 'removing', paused: false, status: null }

test('the tables, case by case', () => {
  const cases: [string, string, string][] = [
    ['no groups', groupsTable([]), 'no groups\n'],
    [
      'groups',
      groupsTable([running, fresh]),
      'GROUP     PROVIDER  STATE     PAUSED  DESIRED  IN SERVICE  LAST REASON       RISKS\n' +
        'shop-web  local     active    yes     3        1/2         PausedByOperator  max in ~20 min, budget now\n' +
        'api       aws       removing  no      -        -           -                 -\n',
    ],
    ['no instances', instancesTable([fresh]), 'no instances\n'],
    [
      'instances',
      instancesTable([running, fresh]),
      'GROUP     INSTANCE    PHASE       PROTECTED  ADDRESS\n' + 'shop-web  shop-web-a  in-service  yes        127.0.0.1:4001\n' + 'shop-web  shop-web-b  warming     no         -\n',
    ],
    ['no events', eventsTable({ events: [] }), 'no events\n'],
    [
      'a full page of events',
      eventsTable({ events: [{ atMs: Date.UTC(2026, 10, 11, 4, 0, 30), group: 'shop-web', type: 'group-paused', message: 'paused' }], nextCursor: '812' }),
      'TIME (UTC)           GROUP     TYPE          MESSAGE\n2026-11-11 04:00:30  shop-web  group-paused  paused\n(older events: add --cursor 812)\n',
    ],
  ]
  for (const [name, got, want] of cases) assert.equal(got, want, name)
})
