import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig, parseConfig, formatFieldPath, resolveConfigPaths, validateConfigValues } from '../../src/spec/load.ts'
import { ConfigError, formatConfigIssue } from '../../src/spec/errors.ts'
import { isTideError } from '../../src/errors.ts'

const good = `# two groups and the global settings
group: shop-web
provider: local
launch:
  command: [node, examples/shop/server.js]
replicas: { min: 2, max: 20 }
routing:
  listen: 8080
  classes:
    - { name: checkout, pathPrefix: /checkout, priority: high }
    - { name: browse, priority: low }
metrics:
  - { type: cpu, target: { averageUtilization: 60 } }
  - { type: latency, percentile: 95, class: checkout, target: { valueMs: 200 } }
schedules:
  - { name: double-11, start: "2026-11-11T12:00:00+08:00", end: "2026-11-11T15:00:00+08:00", replicas: { min: 30 } }
  - { name: weekday-evening, cron: "0 19 * * 1-5", durationMinutes: 180, replicas: { min: 6 }, timezone: Asia/Shanghai }
---
group: shop-api
provider: sim
---
quotas: { maxInstances: 100 }
api: { listen: 7070 }
`

/** Parses `text` expecting a ConfigError and returns its issues as formatted lines. */
function errorsOf(text: string): string[] {
  try {
    parseConfig(text, 't.yaml')
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    assert.ok(isTideError(err, 'TIDE_ERR_CONFIG'))
    return err.issues.map(formatConfigIssue)
  }
  assert.fail('expected a ConfigError')
}

test('a valid file gives every group with defaults and the global settings', () => {
  const c = parseConfig(good, 't.yaml')
  assert.deepEqual(c.groups.map((g) => g.group), ['shop-web', 'shop-api'])
  assert.equal(c.groups[0]!.replicas.max, 20)
  assert.equal(c.groups[1]!.behavior.scaleDown.stabilizationWindowSeconds, 300)
  assert.equal(c.global.quotas.maxInstances, 100)
  assert.equal(c.global.store.path, 'tide.db')
})

test('without a global document the global defaults apply', () => {
  const c = parseConfig('group: a\nprovider: sim\n', 't.yaml')
  assert.equal(c.global.api.listen, 7070)
  assert.equal(c.groups.length, 1)
})

test('a trailing --- and comments are fine', () => {
  const c = parseConfig('---\ngroup: a\nprovider: sim\n---\n# nothing\n', 't.yaml')
  assert.equal(c.groups.length, 1)
})

const badCases = [
  {
    name: 'unknown top-level field, with a suggestion, at its line',
    text: 'group: a\nprovider: sim\nreplcas: { min: 1 }\n',
    want: ['t.yaml:3:1: replcas: unknown field "replcas"; did you mean "replicas"?'],
  },
  {
    name: 'unknown nested field',
    text: 'group: a\nprovider: sim\nreplicas:\n  min: 1\n  maxx: 3\n',
    want: ['t.yaml:5:3: replicas.maxx: unknown field "maxx"; did you mean "max"?'],
  },
  {
    name: 'wrong type names the expected type and the value',
    text: 'group: a\nprovider: sim\nreplicas: { min: two }\n',
    want: ['t.yaml:3:18: replicas.min: expected number, got "two"'],
  },
  {
    name: 'missing required field points at the key of its parent',
    text: 'group: a\nprovider: sim\nmetrics:\n  - type: latency\n    target: {}\n',
    want: ['t.yaml:5:5: metrics[0].target.valueMs: required field is missing (number)'],
  },
  {
    name: 'bad discriminator lists the metric types',
    text: 'group: a\nprovider: sim\nmetrics:\n  - { type: cpux, target: {} }\n',
    want: ['t.yaml:4:13: metrics[0].type: must be one of "cpu", "memory", "rps", "inflight", "disk", "network", "latency", "external", got "cpux"'],
  },
  {
    name: 'a disk target is in MiB/s and says so',
    text: 'group: a\nprovider: sim\nmetrics:\n  - type: disk\n    target: { averageValue: 20 }\n',
    want: ['t.yaml:5:5: metrics[0].target.averageValueMiBPerSecond: required field is missing (number)', 't.yaml:5:15: metrics[0].target.averageValue: unknown field "averageValue"; allowed: averageValueMiBPerSecond'],
  },
  {
    name: 'disk and network metrics need a local group: another provider has no source for them',
    text: 'group: a\nprovider: kubernetes\nkubernetes: { namespace: a, deployment: a }\nmetrics:\n  - { type: disk, target: { averageValueMiBPerSecond: 5 } }\nsteps:\n  - { metric: { type: network }, above: 9, change: { type: Pods, value: 1 } }\n',
    want: [
      "t.yaml:5:13: metrics[0].type: a disk metric is measured for provider local only (disk from /proc/<pid>/io, network by tide's router); provider kubernetes has no source for it",
      "t.yaml:7:23: steps[0].metric.type: a network metric is measured for provider local only (disk from /proc/<pid>/io, network by tide's router); provider kubernetes has no source for it",
    ],
  },
  {
    name: 'a network metric has in, out or total, not a disk direction',
    text: 'group: a\nprovider: sim\nmetrics:\n  - { type: network, direction: write, target: { averageValueMiBPerSecond: 5 } }\n',
    want: ['t.yaml:4:33: metrics[0].direction: must be one of "in", "out", "total", got "write"'],
  },
  {
    name: 'a literal union lists its values',
    text: 'group: a\nprovider: sim\nmetrics:\n  - { type: latency, percentile: 93, target: { valueMs: 100 } }\n',
    want: ['t.yaml:4:34: metrics[0].percentile: must be one of 50, 90, 95, 99, got 93'],
  },
  {
    name: 'a local group needs launch.command',
    text: 'group: a\n',
    want: ['t.yaml:1:1: launch: a group with provider local needs launch.command'],
  },
  {
    name: 'routing.proxy haproxy caps replicas.max',
    text: 'group: a\nlaunch: { command: [node] }\nreplicas: { max: 200 }\nrouting: { proxy: haproxy }\n',
    want: ['t.yaml:3:18: replicas.max: routing.proxy haproxy routes at most 128 instances: lower replicas.max'],
  },
  {
    name: 'slo.headroom without slo.instanceRps is refused: there is no capacity to keep it above',
    text: 'group: a\nprovider: sim\nslo:\n  latencyP95Ms: 250\n  headroom: { mode: fixed, percent: 20 }\n',
    want: ['t.yaml:5:13: slo.headroom: slo.headroom needs slo.instanceRps: the headroom is kept above what instanceRps instances serve'],
  },
  {
    name: 'slo.headroom.minPercent above maxPercent',
    text: 'group: a\nprovider: sim\nslo: { instanceRps: 50, headroom: { minPercent: 50, maxPercent: 20 } }\n',
    want: ['t.yaml:3:49: slo.headroom.minPercent: must not exceed slo.headroom.maxPercent'],
  },
  {
    name: 'an slo budget over 50 %',
    text: 'group: a\nprovider: sim\nslo: { budgetPercent: 80 }\n',
    want: ['t.yaml:3:23: slo.budgetPercent: must be ≤ 50, got 80'],
  },
  {
    name: 'min above max',
    text: 'group: a\nprovider: sim\nreplicas: { min: 5, max: 3 }\n',
    want: ['t.yaml:3:18: replicas.min: must not exceed replicas.max'],
  },
  {
    name: 'bad group name',
    text: 'group: Shop_Web\nprovider: sim\n',
    want: ['t.yaml:1:8: group: a group name is lower-case letters, digits and dashes, got "Shop_Web"'],
  },
  {
    name: 'a number below its minimum',
    text: 'group: a\nprovider: sim\nsyncPeriodSeconds: 0\n',
    want: ['t.yaml:3:20: syncPeriodSeconds: must be > 0, got 0'],
  },
  {
    name: 'duplicate group names',
    text: 'group: a\nprovider: sim\n---\ngroup: a\nprovider: sim\n',
    want: ['t.yaml:4:8: group: group "a" is already defined at line 1'],
  },
  {
    name: 'latency class must name a routing class',
    text: 'group: a\nprovider: sim\nrouting: { classes: [{ name: checkout }] }\nmetrics:\n  - { type: latency, class: chekout, target: { valueMs: 200 } }\n',
    want: ['t.yaml:5:29: metrics[0].class: class "chekout" is not a routing class (routing.classes has checkout); did you mean "checkout"?'],
  },
  {
    name: 'bad cron',
    text: 'group: a\nprovider: sim\nschedules:\n  - { name: x, cron: "0 25 * * *", durationMinutes: 5, replicas: { min: 1 } }\n',
    want: [/^t\.yaml:4:22: schedules\[0\]\.cron: invalid cron "0 25 \* \* \*": /],
  },
  {
    name: 'unknown time zone',
    text: 'group: a\nprovider: sim\nschedules:\n  - { name: x, cron: "0 9 * * *", durationMinutes: 5, replicas: { min: 1 }, timezone: Asia/Shangai }\n',
    want: ['t.yaml:4:87: schedules[0].timezone: unknown time zone "Asia/Shangai" (use an IANA name such as Asia/Shanghai or UTC)'],
  },
  {
    name: 'schedule without a window',
    text: 'group: a\nprovider: sim\nschedules:\n  - { name: x, replicas: { min: 1 } }\n',
    want: ['t.yaml:4:5: schedules[0]: a schedule needs either start and end, or cron and durationMinutes'],
  },
  {
    name: 'YAML syntax error with its line',
    text: 'group: a\nprovider: sim\nreplicas: { min: 1\n',
    want: [/^t\.yaml:4:1: YAML: /],
  },
  {
    name: 'duplicate YAML key',
    text: 'group: a\nprovider: sim\nprovider: local\n',
    want: ['t.yaml:3:1: YAML: Map keys must be unique: "provider" is repeated'],
  },
  {
    name: 'a document that is neither a group nor global',
    text: 'group: a\nprovider: sim\n---\nfoo: 1\n',
    want: ['t.yaml:4:1: a document needs "group:" (a group) or quotas/store/api (the global settings); found foo'],
  },
  {
    name: 'a store.url that is not a PostgreSQL URL is refused, naming the field and its line',
    text: 'group: a\nprovider: sim\n---\nstore:\n  path: a.db\n  url: mysql://tide@db/tide\n',
    want: ['t.yaml:6:8: store.url: must be a PostgreSQL URL (postgres://user[:password]@host[:port]/database); a SQLite store is store.path'],
  },
  {
    name: 'two global documents',
    text: 'group: a\nprovider: sim\n---\nstore: { path: a.db }\n---\napi: { listen: 1 }\n',
    want: ['t.yaml:6:1: a second global document (quotas/store/api); the first is at line 4 — merge them'],
  },
  {
    name: 'a list instead of a mapping',
    text: '- group: a\n',
    want: ['t.yaml:1:1: a document must be a mapping of fields, found a list'],
  },
  {
    name: 'no groups at all',
    text: 'quotas: { maxInstances: 3 }\n',
    want: ['t.yaml: no group documents found (a group starts with "group: NAME")'],
  },
  {
    name: 'two local groups on one port',
    text: 'group: a\nlaunch: { command: [x] }\n---\ngroup: b\nlaunch: { command: [x] }\n',
    want: ['t.yaml:4:1: routing.listen: port 8080 is already used by group "a"; give each local group its own routing.listen'],
  },
  {
    name: 'quotas smaller than the minimums',
    text: 'group: a\nprovider: sim\nreplicas: { min: 3 }\n---\nquotas: { maxInstances: 2 }\n',
    want: ['t.yaml:5:25: quotas.maxInstances: 2 instances is less than the groups\' replicas.min need together (3 instances)'],
  },
  {
    name: 'a backup with both instances and url, at the backup field',
    text: 'group: a\nlaunch: { command: [x] }\nrouting:\n  backup:\n    instances: [{ host: 127.0.0.1, port: 9001 }]\n    url: http://127.0.0.1:9000\n',
    want: ['t.yaml:5:5: routing.backup: routing.backup takes either instances (fixed servers) or url (an upstream), not both'],
  },
  {
    name: 'a backup with neither instances nor url',
    text: 'group: a\nlaunch: { command: [x] }\nrouting: { backup: {} }\n',
    want: ['t.yaml:3:20: routing.backup: routing.backup needs instances (a list of { host, port }) or url (http://host:port[/prefix])'],
  },
  {
    name: 'a backup url that is not plain http',
    text: 'group: a\nlaunch: { command: [x] }\nrouting:\n  backup: { url: "https://spare:9000" }\n',
    want: ['t.yaml:4:18: routing.backup.url: must be http://host:port[/prefix] (plain http, no credentials, query or fragment)'],
  },
  {
    name: 'a backup target that is the router itself',
    text: 'group: a\nlaunch: { command: [x] }\nrouting:\n  listen: 8080\n  backup: { instances: [{ host: 127.0.0.1, port: 9000 }, { host: localhost, port: 8080 }] }\n',
    want: ["t.yaml:5:58: routing.backup.instances[1]: is this group's own router (routing.host 127.0.0.1, routing.listen 8080): requests would loop"],
  },
  {
    name: 'a backup url that is the router itself',
    text: 'group: a\nlaunch: { command: [x] }\nrouting:\n  listen: 80\n  backup: { url: "http://127.0.0.1/x" }\n',
    want: ["t.yaml:5:18: routing.backup.url: is this group's own router (routing.host 127.0.0.1, routing.listen 80): requests would loop"],
  },
  {
    name: 'initial outside min..max',
    text: 'group: a\nprovider: sim\nreplicas: { min: 1, max: 3, initial: 5 }\n',
    want: ['t.yaml:3:38: replicas.initial: must lie between replicas.min (1) and replicas.max (3), got 5'],
  },
] as const

for (const c of badCases) {
  test(`rejects ${c.name}`, () => {
    const got = errorsOf(c.text)
    assert.equal(got.length, c.want.length, got.join('\n'))
    for (const [i, w] of c.want.entries()) {
      if (typeof w === 'string') assert.equal(got[i], w)
      else assert.match(got[i]!, w)
    }
  })
}

test('anchors, aliases and << merge keys work within a document', () => {
  const text = 'group: a\nprovider: sim\nschedules:\n  - &s { name: x, cron: "0 9 * * *", durationMinutes: 60, replicas: { min: 3 } }\n  - { <<: *s, name: y, cron: "0 19 * * *" }\n'
  const c = parseConfig(text, 't.yaml')
  assert.deepEqual(
    c.groups[0]!.schedules.map((s) => [s.name, s.cron, s.durationMinutes, s.replicas.min]),
    [['x', '0 9 * * *', 60, 3], ['y', '0 19 * * *', 60, 3]],
  )
  assert.deepEqual(errorsOf(text.replace('name: y', 'nme: y')), ['t.yaml:5:15: schedules[1].nme: unknown field "nme"; did you mean "name"?'])
})

test('every issue in the file is reported at once, in file order', () => {
  const text = 'group: a\nprovider: sim\nreplcas: 1\nsyncPeriodSeconds: -1\n---\ngroup: b\nprovider: nowhere\n'
  const got = errorsOf(text)
  assert.deepEqual(
    got.map((l) => l.split(':').slice(0, 2).join(':')),
    ['t.yaml:3', 't.yaml:4', 't.yaml:7'],
  )
})

test('the error message lists every issue', () => {
  assert.throws(
    () => parseConfig('group: a\nprovider: sim\nx: 1\ny: 2\n', 't.yaml'),
    (err: unknown) => err instanceof ConfigError && /^2 errors in t\.yaml:\n {2}t\.yaml:3:1: x: .*\n {2}t\.yaml:4:1: y: /.test(err.message),
  )
})

test('loadConfig names an unreadable file', () => {
  assert.throws(() => loadConfig('/nonexistent/tide.yaml'), (err: unknown) => isTideError(err, 'TIDE_ERR_FILE') && /nonexistent\/tide\.yaml: ENOENT/.test(err.message))
})

// Relative paths resolve against the config file's folder (here /etc/tide), never the shell's.
const pathCases = [
  { name: 'a relative store path', text: 'store: { path: .tide/tide.db }\n---\ngroup: a\nlaunch: { command: [node, server.js] }\n', store: '/etc/tide/.tide/tide.db', cwd: '/etc/tide' },
  { name: 'the default store beside the config', text: 'group: a\nlaunch: { command: [node] }\n', store: '/etc/tide/tide.db', cwd: '/etc/tide' },
  { name: 'an absolute store path and cwd stay', text: 'store: { path: /var/lib/tide.db }\n---\ngroup: a\nlaunch: { command: [node], cwd: /srv/app }\n', store: '/var/lib/tide.db', cwd: '/srv/app' },
  { name: 'a relative cwd', text: 'group: a\nlaunch: { command: [./run.sh], cwd: ../app }\n', store: '/etc/tide/tide.db', cwd: '/etc/app' },
  { name: 'an in-memory store', text: 'store: { path: ":memory:" }\n---\ngroup: a\nlaunch: { command: [node] }\n', store: ':memory:', cwd: '/etc/tide' },
  { name: 'a group without launch keeps none', text: 'group: a\nprovider: sim\n', store: '/etc/tide/tide.db', cwd: undefined },
] as const
for (const c of pathCases) {
  test(`resolveConfigPaths: ${c.name}`, () => {
    const config = resolveConfigPaths(parseConfig(c.text, 't.yaml'), '/etc/tide')
    assert.equal(config.global.store.path, c.store)
    assert.equal(config.groups[0]?.launch?.cwd, c.cwd)
  })
}

test('resolveConfigPaths leaves the argv and env alone: they are the program\'s to read, in launch.cwd', () => {
  const config = resolveConfigPaths(parseConfig('group: a\nlaunch: { command: [./bin/server, data/in.csv], env: { DB: data/x.db } }\nlifecycle: { backup: { command: [./flush.sh, out/] } }\n', 't.yaml'), '/etc/tide')
  const g = config.groups[0]
  assert.ok(g?.launch !== undefined)
  assert.deepEqual(g.launch.command, ['./bin/server', 'data/in.csv'])
  assert.deepEqual(g.launch.env, { DB: 'data/x.db' })
  assert.deepEqual(g.lifecycle.backup?.command, ['./flush.sh', 'out/'])
})

test('loadConfig resolves against the file\'s own folder', () => {
  const config = loadConfig(new URL('../../examples/shop/tide.yaml', import.meta.url).pathname)
  const folder = new URL('../../examples/shop', import.meta.url).pathname
  assert.equal(config.global.store.path, `${folder}/.tide/tide.db`)
  assert.equal(config.groups[0]?.launch?.cwd, folder)
})

test('field paths render with indexes', () => {
  assert.equal(formatFieldPath(['metrics', 0, 'target', 'valueMs']), 'metrics[0].target.valueMs')
  assert.equal(formatFieldPath([]), '')
})

test('mutated files give a ConfigError or a config, never another exception', () => {
  // A fixed-seed linear congruential generator: the same 300 mutations every run.
  let seed = 42
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const alphabet = ' :-{}[],"\'\n#&*!|>0a'
  let rejected = 0
  for (let i = 0; i < 300; i++) {
    let text = good
    for (let k = 0; k <= next(3); k++) {
      const pos = next(text.length)
      const ch = alphabet[next(alphabet.length)]!
      const op = next(3)
      text = op === 0 ? text.slice(0, pos) + text.slice(pos + 1) : op === 1 ? text.slice(0, pos) + ch + text.slice(pos) : text.slice(0, pos) + ch + text.slice(pos + 1)
    }
    try {
      parseConfig(text, 'm.yaml')
    } catch (err) {
      assert.ok(err instanceof ConfigError, `${String(err)} for ${JSON.stringify(text)}`)
      for (const issue of err.issues) assert.doesNotMatch(issue.message, /undefined|\[object/, JSON.stringify(text))
      rejected++
    }
  }
  assert.ok(rejected > 0, 'some mutations must be rejected')
})

// External metrics: a source is required (else the metric would block scale-in for ever), named
// by a known type with a valid URL; http-json queries are JSON paths; one query, one source.
const externalGroup = (metric: string, extra = ''): string => `group: worker
provider: sim
replicas: { min: 1, max: 8 }
metrics:
  - ${metric}
${extra}`
const externalCases: { name: string; text: string; want: string[] }[] = [
  {
    name: 'an external metric without a source',
    text: externalGroup('{ type: external, query: sum(q), target: { value: 10 } }'),
    want: ['t.yaml:5:5: metrics[0].source: required field is missing: an external metric needs a source: { type: prometheus, url: … } or { type: http-json, url: … } (without one it never has a value and blocks scale-in for ever)'],
  },
  {
    name: 'an unknown source type',
    text: externalGroup('{ type: external, query: sum(q), source: { type: graphite, url: "http://h" }, target: { value: 10 } }'),
    want: ['t.yaml:5:54: metrics[0].source.type: must be one of "http-json", "prometheus", got "graphite"'],
  },
  {
    name: 'a source URL that is not http',
    text: externalGroup('{ type: external, query: sum(q), source: { type: prometheus, url: "ftp://h" }, target: { value: 10 } }'),
    want: ['t.yaml:5:71: metrics[0].source.url: must be an http(s) URL, got "ftp://h"'],
  },
  {
    name: 'an http-json query that is no JSON path',
    text: externalGroup('{ type: external, query: "$.a[*]", source: { type: http-json, url: "http://h/s" }, target: { value: 10 } }'),
    want: ['t.yaml:5:30: metrics[0].query: an http-json source reads the JSON path in query: cannot read the JSON path at "[*]" (use $.a.b, a.b, a[0] or a[\'b c\'])'],
  },
  {
    name: 'a fallback count above replicas.max',
    text: externalGroup('{ type: external, query: sum(q), source: { type: prometheus, url: "http://h" }, fallback: { replicas: 9 }, target: { value: 10 } }'),
    want: ['t.yaml:5:107: metrics[0].fallback.replicas: must lie between replicas.min (1) and replicas.max (8), got 9'],
  },
  {
    name: 'one query with two sources',
    text: externalGroup(
      '{ type: external, query: sum(q), source: { type: prometheus, url: "http://a" }, target: { value: 10 } }',
      'steps:\n  - { metric: { type: external, query: sum(q), source: { type: prometheus, url: "http://b" } }, above: 1, change: { type: Pods, value: 1 } }\n',
    ),
    want: ['t.yaml:7:56: steps[0].metric.source: query "sum(q)" already has another source at metrics[0]: one query, one source in a group'],
  },
]
for (const c of externalCases) {
  test(`external metrics: ${c.name}`, () => {
    assert.deepEqual(errorsOf(c.text), c.want)
  })
}

test('external metrics: a source and a fallback load, with the defaults filled in', () => {
  const config = parseConfig(externalGroup('{ type: external, query: sum(q), source: { type: prometheus, url: "http://127.0.0.1:9090" }, fallback: { replicas: 4 }, target: { averageValue: 30 } }'), 't.yaml')
  assert.deepEqual(config.groups[0]?.metrics, [
    { type: 'external', query: 'sum(q)', source: { type: 'prometheus', url: 'http://127.0.0.1:9090', timeoutSeconds: 5 }, fallback: { failureThreshold: 3, replicas: 4 }, target: { averageValue: 30 } },
  ])
})

test('validateConfigValues checks plain values with the same schemas and cross-checks as a file, by field', async (t) => {
  const web = { group: 'web', provider: 'sim', routing: { listen: 8080 } }
  const cases = [
    { name: 'a good pair', groups: [web, { group: 'api', provider: 'sim' }], global: undefined, issues: [] },
    { name: 'an unknown field, with a hint', groups: [{ ...web, replcas: { min: 1 } }], global: undefined, issues: ['body: replcas: unknown field "replcas"; did you mean "replicas"?'] },
    { name: 'a wrong type', groups: [{ ...web, replicas: { min: 'two', max: 3 } }], global: undefined, issues: ['body: replicas.min: expected number, got "two"'] },
    { name: 'not an object', groups: [[1]], global: undefined, issues: ['body: a group must be an object of fields, found a list'] },
    { name: 'a port clash across groups (local)', groups: [{ group: 'a', launch: { command: ['x'] }, routing: { listen: 9000 } }, { group: 'b', launch: { command: ['x'] }, routing: { listen: 9000 } }], global: undefined, issues: ['body: routing.listen: port 9000 is already used by group "a"; give each local group its own routing.listen'] },
    { name: 'a group on the API port', groups: [{ group: 'a', launch: { command: ['x'] }, routing: { listen: 7070 } }], global: { api: { listen: 7070 } }, issues: ['body: routing.listen: port 7070 is already used by the API (api.listen); give each local group its own routing.listen'] },
    { name: 'minimums over the quota', groups: [{ ...web, replicas: { min: 5, max: 9 } }], global: { quotas: { maxInstances: 3 } }, issues: ["global: quotas.maxInstances: 3 instances is less than the groups' replicas.min need together (5 instances)"] },
  ] as const
  for (const c of cases) {
    await t.test(c.name, () => {
      let issues: string[] = []
      try {
        const config = validateConfigValues(c.groups, c.global, () => 'body', 'global')
        assert.equal(config.groups.length, c.groups.length)
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err))
        issues = err.issues.map(formatConfigIssue)
      }
      assert.deepEqual(issues, c.issues)
    })
  }
})
