import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dirname } from 'node:path'
import { configWarnings, launchWarnings, summary } from '../../src/cli/validate.ts'
import { loadConfig, parseConfig } from '../../src/spec/load.ts'

const base = 'group: web\nprovider: sim\n'
const cpu = 'metrics: [{ type: cpu, target: { averageUtilization: 60 } }]\n'

const cases = [
  { name: 'a group with a metric has no warning', yaml: base + cpu, want: [] },
  { name: 'a group nothing scales', yaml: base + 'replicas: { min: 3 }\n', want: ['web: no metrics, steps, schedules or predictive scaling; it stays at replicas.min (3)'] },
  {
    name: 'both directions disabled',
    yaml: base + cpu + 'behavior: { scaleUp: { selectPolicy: Disabled }, scaleDown: { selectPolicy: Disabled } }\n',
    want: ['web: behavior disables both scaling up and down; only schedules and min/max move it'],
  },
  { name: 'vertical without a ladder', yaml: base + cpu + 'strategy: vertical\n', want: ['web: strategy vertical with no size in sizes; vertical steps need a ladder of at least two sizes'] },
  {
    name: 'vertical auto beside a cpu target',
    yaml: base + cpu + 'sizes: [{ cpu: 1, memoryMiB: 512 }, { cpu: 2, memoryMiB: 1024 }]\nvertical: { mode: auto }\n',
    want: ['web: vertical.mode auto and a cpu target both act on the same signal (the HPA-against-VPA loop); use strategy: mixed, or scale the count on rps or latency'],
  },
  {
    name: 'vertical auto beside an rps target is fine',
    yaml: base + 'metrics: [{ type: rps, target: { averageValue: 50 } }]\nsizes: [{ cpu: 1, memoryMiB: 512 }, { cpu: 2, memoryMiB: 1024 }]\nvertical: { mode: auto }\n',
    want: [],
  },
  {
    name: 'cheapest without prices',
    yaml: base + cpu + 'strategy: mixed\nsizes: [{ cpu: 1, memoryMiB: 512 }, { cpu: 2, memoryMiB: 1024 }]\n',
    want: ['web: mixedOrder cheapest but no size has pricePerHour'],
  },
  {
    name: 'a schedule min above max',
    yaml: base + cpu + 'replicas: { max: 20 }\nschedules: [{ name: d11, start: "2026-11-11T12:00:00+08:00", end: "2026-11-11T15:00:00+08:00", replicas: { min: 30 } }]\n',
    want: ['web: schedule d11 raises min to 30 above max 20; raise replicas.max in the schedule too'],
  },
  {
    name: 'a schedule that raises max too is fine',
    yaml: base + cpu + 'replicas: { max: 20 }\nschedules: [{ name: d11, start: "2026-11-11T12:00:00+08:00", end: "2026-11-11T15:00:00+08:00", replicas: { min: 30, max: 40 } }]\n',
    want: [],
  },
] as const
for (const c of cases) {
  test(`warning: ${c.name}`, () => {
    assert.deepEqual(configWarnings(parseConfig(c.yaml, 't.yaml')), c.want)
  })
}

test('the summary names each group with its bounds and metrics', () => {
  const config = parseConfig(base + cpu + 'replicas: { min: 2, max: 9 }\n---\nquotas: { maxInstances: 50 }\n', 't.yaml')
  assert.equal(
    summary(config, 't.yaml'),
    't.yaml: valid, 1 group\n  web: provider sim, replicas 2..9, size 1 cpu / 512 MiB, strategy horizontal\n    metrics: cpu 60%\nquotas: at most 50 instances\n',
  )
})

test('the summary says which Auto Scaling group an aws group drives', () => {
  const config = parseConfig(
    'group: web\nprovider: aws\nsize: { name: s, cpu: 2, memoryMiB: 4096 }\n' + cpu + 'aws: { autoScalingGroupName: shop-asg, region: eu-central-1, ownsMinMax: true, instanceTypes: { s: t3.medium } }\n',
    't.yaml',
  )
  assert.equal(
    summary(config, 't.yaml'),
    't.yaml: valid, 1 group\n  web: provider aws, replicas 1..10, size 2 cpu / 4096 MiB, strategy horizontal\n    metrics: cpu 60%\n    aws: Auto Scaling group shop-asg in eu-central-1, min/max from replicas, types s=t3.medium\n',
  )
})

const launchCases = [
  { name: 'node on PATH is fine', launch: `{ command: [node, server.js] }`, want: [] },
  { name: 'a program missing from PATH', launch: `{ command: [nodee, server.js] }`, want: ['web: launch.command program "nodee" is not on PATH here'] },
  { name: 'a missing relative program', launch: `{ command: [./bin/nope] }`, want: ['web: launch.command program "./bin/nope" is not an executable file here'] },
  { name: 'a missing cwd', launch: `{ command: [node], cwd: /nonexistent/dir }`, want: ['web: launch.cwd /nonexistent/dir is not a directory here'] },
] as const
for (const c of launchCases) {
  test(`launch warning: ${c.name}`, () => {
    const config = parseConfig(`group: web\nlaunch: ${c.launch}\n${cpu}`, 't.yaml')
    // PATH holds only the directory of the node running this test, so the result does not depend on the machine.
    assert.deepEqual(launchWarnings(config, dirname(process.execPath)), c.want)
  })
}

test('launch warning: routing.proxy haproxy without haproxy on PATH', () => {
  const config = parseConfig(`group: web\nlaunch: { command: [node] }\nrouting: { proxy: haproxy }\n${cpu}`, 't.yaml')
  assert.deepEqual(launchWarnings(config, dirname(process.execPath)), ['web: routing.proxy is haproxy, but there is no haproxy on PATH here (Debian: apt-get install haproxy)'])
  const withTide = parseConfig(`group: web\nlaunch: { command: [node] }\n${cpu}`, 't.yaml')
  assert.deepEqual(launchWarnings(withTide, dirname(process.execPath)), [])
})

test('the example shop config is valid and shows its predictive and vertical settings', () => {
  const config = loadConfig(new URL('../../examples/shop/tide.yaml', import.meta.url).pathname)
  const g = config.groups[0]
  assert.equal(g?.predictive.mode, 'forecastOnly')
  assert.equal(g.vertical.mode, 'recommend')
  assert.deepEqual(configWarnings(config), [])
  assert.match(summary(config, 'tide.yaml'), /predictive: forecastOnly\n {4}vertical: recommend/)
})

test('the summary names each external metric\'s source and what a failure does', () => {
  const config = parseConfig(
    base +
      'metrics:\n' +
      '  - { type: external, query: sum(q), source: { type: prometheus, url: "http://127.0.0.1:9090" }, target: { averageValue: 30 } }\n' +
      '  - { type: external, query: $.depth, source: { type: http-json, url: "http://127.0.0.1:8080/stats" }, fallback: { failureThreshold: 2, replicas: 4 }, target: { value: 10 } }\n' +
      'steps: [{ metric: { type: external, query: sum(q), source: { type: prometheus, url: "http://127.0.0.1:9090" } }, above: 100, change: { type: Pods, value: 1 } }]\n',
    't.yaml',
  )
  const text = summary(config, 't.yaml')
  assert.match(text, /metrics: external sum\(q\) 30\/instance from prometheus http:\/\/127\.0\.0\.1:9090 \(hold on failure\), external \$\.depth 10 from http-json http:\/\/127\.0\.0\.1:8080\/stats \(fallback 4 after 2 failures\)/)
  assert.match(text, /step rules: 1 \(external sum\(q\) from prometheus http:\/\/127\.0\.0\.1:9090\)/)
})

test('the summary names disk and network metrics with their direction and MiB/s target', () => {
  const config = parseConfig(
    base + 'metrics:\n  - { type: disk, direction: write, target: { averageValueMiBPerSecond: 20 } }\n  - { type: network, target: { averageValueMiBPerSecond: 12.5 } }\n',
    't.yaml',
  )
  assert.match(summary(config, 't.yaml'), /\n {4}metrics: disk write 20 MiB\/s\/instance, network in\+out 12\.5 MiB\/s\/instance\n/)
})
