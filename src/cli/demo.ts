/**
 * `tide demo`: no config needed. Runs the demo shop (examples/shop) behind tide's
 * router with min 1 / max 6 instances, drives a flash sale at it with the built-in
 * load generator, shows live what tide does and why, and ends with a summary.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command, CommandIo } from './args.ts'
import { UsageError } from './args.ts'
import type { TideEvent, TideEventType } from '../store/events.ts'
import { runLoad, type RequestKind, type SecondStats } from '../loadgen/load-generator.ts'
import { patternRate } from '../loadgen/patterns.ts'
import { ProcessSampler } from '../metrics/process-sampler.ts'
import { Runtime } from '../runtime/runtime.ts'
import { GlobalSchema, GroupSchema, type GroupSpec } from '../spec/schema.ts'
import { conditionsText, decisionLine } from './up-output.ts'
import { apiFlags, apiOptionsOf, startApi, type ApiChoice, type ApiServer } from './serve-api.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The events the demo prints as they happen, besides scaling decisions: instances coming and going, and what stops them. */
const DEMO_SHOWN_EVENTS: ReadonlySet<TideEventType> = new Set<TideEventType>([
  'instance-ready',
  'terminate',
  'instance-failed',
  'launch-failed',
  'reconcile-failed',
  'provider-throttled',
  'capacity-unavailable',
])

/**
 * The demo group: small instances (a quarter of a core each, so that six fit on a
 * two-core machine beside the router and the load), a 1-second sync period so the
 * reaction shows within seconds, a short scale-down window so the ebb shows too.
 */
export function demoGroup(stateDir: string): GroupSpec {
  return GroupSchema.parse({
    group: 'shop',
    provider: 'local',
    launch: {
      command: [process.execPath, '--import', 'tsx', join(ROOT, 'examples/shop/server.ts')],
      env: { SHOP_DB: join(stateDir, 'shop.db') },
      cwd: ROOT,
    },
    size: { cpu: 0.25, memoryMiB: 256 },
    replicas: { min: 1, max: 6 },
    syncPeriodSeconds: 1,
    startupSeconds: 2,
    warmupSeconds: 5,
    health: { path: '/healthz', intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 1, unhealthyThreshold: 2, graceSeconds: 10 },
    routing: {
      listen: 0,
      // The demo owns what it starts and stops it all at the end: its router lives and dies with it.
      dataPlane: 'in-process',
      drainSeconds: 10,
      classes: [
        { name: 'checkout', pathPrefix: '/checkout', priority: 'high' },
        { name: 'cart', pathPrefix: '/cart', priority: 'normal' },
        { name: 'browse', priority: 'low' },
      ],
    },
    // rps per instance is the router's 1-second signal: a load step shows in the next window.
    // A quarter-core shop instance serves about 50 req/s of this mix; 30 keeps headroom for a surge.
    metrics: [
      { type: 'rps', target: { averageValue: 30 } },
      { type: 'cpu', target: { averageUtilization: 60 } },
      { type: 'latency', percentile: 95, class: 'checkout', target: { valueMs: 250 } },
    ],
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }, { type: 'Pods', value: 2, periodSeconds: 5 }] },
      scaleDown: { stabilizationWindowSeconds: 15, policies: [{ type: 'Pods', value: 1, periodSeconds: 5 }] },
    },
    lifecycle: { preStop: { http: '/drain', timeoutSeconds: 10 } },
  })
}

/** Browsing, carts and checkouts, as a shop sees them. */
export const SHOP_MIX: readonly RequestKind[] = [
  { method: 'GET', path: '/', weight: 35 },
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((id) => ({ method: 'GET' as const, path: `/products/${id}`, weight: 5 })),
  { method: 'POST', path: '/cart/items', weight: 15, body: { productId: 3, quantity: 1 }, then: [{ method: 'POST', path: '/checkout' }] },
  { method: 'GET', path: '/cart', weight: 10 },
]

/** What `tide demo --json` prints. */
export interface DemoSummary {
  readonly durationSeconds: number
  readonly totalRequests: number
  readonly failedRequests: number
  readonly shedRequests: number
  readonly peakInstances: number
  readonly scaleOutActions: number
  readonly scaleInActions: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly ordersPlaced: number
}

function liveLine(s: SecondStats, instances: number, pending: number, desired: number, note: string): string {
  const bar = '#'.repeat(Math.min(40, Math.round(s.offeredRps / 5)))
  return `t=${String(s.t).padStart(3)}s load ${s.offeredRps.toFixed(0).padStart(4)}/s ${bar.padEnd(40)} ok ${String(s.ok).padStart(4)} fail ${s.failed} shed ${s.shed} p95 ${s.p95Ms.toFixed(0).padStart(4)} ms | instances ${instances}${pending > 0 ? `+${pending}` : ''} → ${desired}${note ? `  ${note}` : ''}\n`
}

export const command: Command = {
  summary: 'Watch tide scale a demo shop through a flash sale (no config needed)',
  usage: '[--duration S] [--peak-rps N] [--json] [--api-listen PORT | --no-api]',
  description:
    'Starts the demo shop (examples/shop) with min 1 / max 6 instances behind tide\'s router on 127.0.0.1, drives a flash sale at it (quiet, then 10× within seconds, then the ebb), and shows each second the load, the instances and each scaling decision with its reason. Ends with a summary; everything it started is drained and stopped. While it runs, the REST API (docs/api.md) and the dashboard (/ui/, docs/dashboard.md) serve the demo group on 127.0.0.1:7070 (--api-listen, --no-api), with a token made for this run.',
  examples: [
    { command: 'tide demo', does: 'two minutes of a flash sale on the demo shop, live' },
    { command: 'tide demo --duration 60 --peak-rps 300', does: 'a shorter, busier sale' },
    { command: 'tide demo --duration 60 --json', does: 'only the summary, as JSON, for scripts' },
  ],
  flags: {
    duration: { kind: 'positive-number', max: 3_600, description: 'length of the flash-sale pattern in seconds', defaultText: '120' },
    'peak-rps': { kind: 'positive-number', max: 2_000, description: 'the sale\'s peak request rate (the quiet rate is a tenth of it)', defaultText: '150' },
    json: { kind: 'boolean', description: 'print only the summary as one JSON object' },
    ...apiFlags,
  },
  async run(args, io) {
    const duration = args.number('duration') ?? 120
    if (duration < 10 || duration > 3600) throw new UsageError('demo', '--duration must be between 10 and 3600 seconds')
    const peak = args.number('peak-rps') ?? 150
    if (peak > 2000) throw new UsageError('demo', '--peak-rps is at most 2000 (the demo runs on this machine)')
    const summary = await runDemo({ durationSeconds: duration, peakRps: peak, json: args.boolean('json'), io, api: apiOptionsOf(args, 'tide demo') })
    if (args.boolean('json')) io.stdout.write(JSON.stringify(summary) + '\n')
    return summary.failedRequests > 0 ? 1 : 0
  },
}

/** Runs the demo end to end and returns its summary; prints live unless `json`. */
export async function runDemo(o: { durationSeconds: number; peakRps: number; json: boolean; io: CommandIo; api?: ApiChoice }): Promise<DemoSummary> {
  const stateDir = mkdtempSync(join(tmpdir(), 'tide-demo-'))
  const spec = demoGroup(stateDir)
  let scaleOut = 0
  let scaleIn = 0
  let ordersPlaced = 0
  const events = {
    append(e: TideEvent) {
      if (e.type === 'decision' && e.decision?.kind === 'scale') {
        if (e.decision.to > e.decision.from) scaleOut++
        else scaleIn++
        if (!o.json) o.io.stdout.write(`        ▸ ${decisionLine(e.decision)}\n`)
      } else if (!o.json && DEMO_SHOWN_EVENTS.has(e.type)) {
        o.io.stdout.write(`        ▸ ${e.message}\n`)
      }
    },
  }
  const sampler = new ProcessSampler()
  const global = GlobalSchema.parse({})
  const runtime = await Runtime.start({
    config: { groups: [spec], global },
    stateDir,
    storePath: join(stateDir, 'tide.db'),
    sampler,
    events,
  })
  let peakInstances = 0
  let api: ApiServer | undefined
  try {
    // The API's line goes to stdout like the live view; with --json only the summary is printed there.
    const apiIo = o.json ? { ...o.io, stdout: o.io.stderr } : o.io
    api = await startApi({ runtime, global, choice: o.api ?? { serve: false }, stateDir, io: apiIo })
    sampler.start((id) => runtime.processOf(id))
    const [endpoint] = runtime.endpoints()
    if (!endpoint) throw new Error('the demo group has no router')
    if (!o.json) o.io.stdout.write(`tide demo: the shop is behind ${endpoint.url}; a flash sale of ${o.durationSeconds} s peaking at ${o.peakRps} req/s begins once the first instance serves.\n`)
    runtime.run()
    await waitForServing(runtime, 60_000)
    const load = await runLoad({
      url: endpoint.url,
      rate: patternRate('flash-sale', { baseRps: o.peakRps / 10, peakRps: o.peakRps, durationSeconds: o.durationSeconds }),
      durationSeconds: o.durationSeconds,
      mix: SHOP_MIX,
      maxInFlight: 1024,
      onSecond: (s) => {
        const st = runtime.controller.status(spec.group)
        const serving = st?.instances.filter((i) => i.phase === 'in-service' || i.phase === 'warming').length ?? 0
        const pending = st?.instances.filter((i) => i.phase === 'pending').length ?? 0
        peakInstances = Math.max(peakInstances, serving + pending)
        // Conditions not in their normal state (at max, out of quota, unable to list…) ride along.
        const note = st === undefined ? undefined : conditionsText(st.conditions)
        if (!o.json) o.io.stdout.write(liveLine(s, serving, pending, st?.desiredReplicas ?? 0, note ?? ''))
      },
    })
    ordersPlaced = load.byStatus['201'] ?? 0
    const summary: DemoSummary = {
      durationSeconds: Math.round(load.durationSeconds),
      totalRequests: load.totalRequests,
      failedRequests: load.failedRequests,
      shedRequests: load.shedRequests,
      peakInstances,
      scaleOutActions: scaleOut,
      scaleInActions: scaleIn,
      p95Ms: Math.round(load.p95Ms * 10) / 10,
      p99Ms: Math.round(load.p99Ms * 10) / 10,
      ordersPlaced,
    }
    if (!o.json) {
      o.io.stdout.write(
        `\nsummary: ${summary.totalRequests} requests, ${summary.failedRequests} failed, ${summary.shedRequests} shed (low priority, 503 + Retry-After), ${summary.ordersPlaced} orders placed; ` +
          `peak ${summary.peakInstances} instances, ${summary.scaleOutActions} scale-outs, ${summary.scaleInActions} scale-ins; p95 ${summary.p95Ms} ms, p99 ${summary.p99Ms} ms\n`,
      )
      if (load.failureSamples.length > 0) o.io.stdout.write(`failures, e.g.: ${load.failureSamples.join('; ')}\n`)
      o.io.stdout.write('stopping: draining and stopping the instances…\n')
    }
    return summary
  } finally {
    sampler.stop()
    await api?.close()
    await runtime.stop()
    rmSync(stateDir, { recursive: true, force: true })
  }
}

/** Resolves once the group has an instance the router sends traffic to. */
async function waitForServing(runtime: Runtime, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const serving = runtime.controller.groups().every((g) => runtime.controller.status(g.group)?.instances.some((i) => i.phase === 'in-service' || i.phase === 'warming'))
    if (serving) return
    if (Date.now() > deadline) throw new Error(`no instance became healthy within ${timeoutMs / 1000} s; see the instance logs`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
