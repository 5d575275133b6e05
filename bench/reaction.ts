/**
 * Reaction time in the local demo: a load step hits the shop behind tide's router;
 * how long until tide decides to scale out, and until the new instance serves?
 * Goals (DESIGN.md): detected within 2 s; serving within the shop's start-up time + 2 s.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { demoGroup, SHOP_MIX } from '../src/cli/demo.ts'
import { MemoryEventLog } from '../src/store/events.ts'
import { runLoad } from '../src/loadgen/load-generator.ts'
import { ProcessSampler } from '../src/metrics/process-sampler.ts'
import { Runtime } from '../src/runtime/runtime.ts'
import { GlobalSchema } from '../src/spec/schema.ts'
import { fmt, type Table } from './table.ts'

const QUIET_RPS = 5
const STEP_RPS = 90
const QUIET_SECONDS = 6
const TRIALS = 3

interface Trial {
  readonly detectS: number
  readonly servingS: number
  readonly startupS: number
  readonly from: number
  readonly to: number
}

async function trial(): Promise<Trial> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-reaction-'))
  const events = new MemoryEventLog()
  const sampler = new ProcessSampler()
  const spec = demoGroup(dir)
  const rt = await Runtime.start({ config: { groups: [spec], global: GlobalSchema.parse({}) }, stateDir: dir, storePath: join(dir, 'tide.db'), events, sampler })
  try {
    sampler.start((id) => rt.processOf(id))
    rt.run()
    const deadline = Date.now() + 60_000
    while (!(rt.controller.status(spec.group)?.instances.some((i) => i.phase === 'in-service') ?? false)) {
      if (Date.now() > deadline) throw new Error('no instance became healthy')
      await new Promise((r) => setTimeout(r, 100))
    }
    const [endpoint] = rt.endpoints()
    const loadStartMs = Date.now()
    const stepAtMs = loadStartMs + QUIET_SECONDS * 1000
    await runLoad({ url: endpoint?.url ?? '', rate: (t) => (t < QUIET_SECONDS ? QUIET_RPS : STEP_RPS), durationSeconds: QUIET_SECONDS + 20, mix: SHOP_MIX })
    const list = events.list()
    const decision = list.find((e) => e.atMs >= stepAtMs && e.type === 'decision' && e.decision?.kind === 'scale' && e.decision.to > e.decision.from)
    if (!decision?.decision) throw new Error('no scale-out after the step')
    const launchedAfter = new Set(
      (rt.controller.status(spec.group)?.instances ?? []).filter((i) => i.launchedAtMs >= stepAtMs).map((i) => i.id),
    )
    const ready = list.find((e) => e.atMs >= decision.atMs && e.type === 'instance-ready' && e.instanceId !== undefined && launchedAfter.has(e.instanceId))
    const readyInstance = rt.controller.status(spec.group)?.instances.find((i) => i.id === ready?.instanceId)
    const startupS = readyInstance?.readyAtMs !== undefined ? (readyInstance.readyAtMs - readyInstance.launchedAtMs) / 1000 : NaN
    return {
      detectS: (decision.atMs - stepAtMs) / 1000,
      servingS: ready ? (ready.atMs - stepAtMs) / 1000 : NaN,
      startupS,
      from: decision.decision.from,
      to: decision.decision.to,
    }
  } finally {
    sampler.stop()
    await rt.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs the trials and reports each beside the goals. */
export async function run(): Promise<Table[]> {
  const rows: (string | number)[][] = []
  for (let i = 0; i < TRIALS; i++) {
    const t = await trial()
    const detectOk = t.detectS <= 2
    const serveOk = t.servingS <= t.startupS + 2
    rows.push([
      i + 1,
      `${QUIET_RPS}→${STEP_RPS} req/s`,
      fmt(t.detectS, 2),
      detectOk ? 'yes' : 'no',
      `${t.from}→${t.to}`,
      fmt(t.startupS, 2),
      fmt(t.servingS, 2),
      fmt(t.servingS - t.startupS, 2),
      serveOk ? 'yes' : 'no',
    ])
  }
  return [
    {
      title: 'Reaction to a load step (local demo shop, tide router, 1 s sync)',
      columns: ['trial', 'step', 'detect s', '≤ 2 s', 'decision', 'shop start-up s', 'serving s', 'serving − start-up s', 'goal met'],
      rows,
      notes: [
        'detect: from the step to the scale-out decision. serving: from the step to the first new instance in the routing table.',
        'goal: detect ≤ 2 s; serving ≤ start-up + 2 s, counted from the step (start-up is the new instance\'s own launch→healthy time).',
      ],
    },
  ]
}
