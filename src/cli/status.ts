/**
 * `tide status [GROUP]`: the last status each group's controller saved in the store (one per
 * group, written at the end of every tick, failed ones too; src/controller/group-status.ts),
 * read while tide runs or after it stopped. The store is found as `tide backup` finds it.
 */
import { existsSync } from 'node:fs'
import type { GroupStatus } from '../controller/group-status.ts'
import { sizeText } from '../core/size.ts'
import { durationText } from '../engine/risk.ts'
import type { InstancePhase } from '../engine/types.ts'
import { StoreError } from '../store/errors.ts'
import type { Command } from './args.ts'
import { storeFlags, storePathOf } from './store-flags.ts'
import { decisionLine, sloText } from './up-output.ts'

/** The lifecycle's order, for counting instances by phase. */
const PHASES: readonly InstancePhase[] = ['pending', 'warming', 'in-service', 'draining', 'unhealthy', 'standby', 'terminated']

/** `2026-11-11 04:00:30 UTC` of an epoch-ms time. */
function timeText(atMs: number): string {
  return `${new Date(atMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/**
 * A group's status for the terminal: when it is of, the count, size and instances by phase,
 * each condition with its status, reason, when it last changed and its message, the last
 * decision, the slo and forecaster when the group has them, and each risk the radar sees ahead.
 */
export function statusText(s: GroupStatus): string {
  const lines: string[] = [`${s.group} (status of ${timeText(s.atMs)})`]
  const counts = PHASES.map((p) => [p, s.instances.filter((i) => i.phase === p).length] as const).filter(([, n]) => n > 0)
  const instances = counts.length === 0 ? 'no instances' : `instances ${counts.map(([p, n]) => `${n} ${p}`).join(', ')}`
  lines.push(`  desired ${s.desiredReplicas} of ${sizeText(s.size)}; ${instances}`)
  const typeWidth = Math.max(0, ...s.conditions.map((c) => c.type.length))
  const reasonWidth = Math.max(0, ...s.conditions.map((c) => c.reason.length))
  for (const c of s.conditions) {
    lines.push(`  ${c.type.padEnd(typeWidth)}  ${c.status.padEnd(5)}  ${c.reason.padEnd(reasonWidth)}  since ${timeText(c.lastTransitionMs)}: ${c.message}`)
  }
  if (s.lastDecision !== undefined) lines.push(`  last decision (${timeText(s.lastDecision.atMs)}): ${decisionLine(s.lastDecision)}`)
  if (s.slo !== undefined) lines.push(`  slo: p95 ${s.slo.latencyP95Ms} ms; ${sloText(s.slo)}`)
  const f = s.forecast
  if (f !== undefined) {
    const parts = [f.status, ...(f.method === undefined ? [] : [f.method])]
    if (f.accuracyWapePercent !== undefined) parts.push(`WAPE ${Math.round(f.accuracyWapePercent * 10) / 10} % (${f.accuracySource ?? 'backtest'})`)
    if (f.expectedRps !== undefined) parts.push(`expected now ${Math.round(f.expectedRps)} req/s`)
    lines.push(`  forecast: ${parts.join(', ')}`)
  }
  for (const r of s.risks ?? []) lines.push(`  risk: ${r.kind} ${r.etaSeconds === 0 ? 'now' : `in ~${durationText(r.etaSeconds)}`} (${r.basis}): ${r.message}`)
  return lines.join('\n')
}

/** The `status` command. */
export const command: Command = {
  summary: "show each group's last status: instances, conditions, last decision",
  usage: '[GROUP] [--store PATH | -c tide.yaml] [--json]',
  description:
    "Reads the status the controller saves in the store at the end of every tick (failed ticks too), so it works while `tide up` runs and after it stopped. Conditions follow the Kubernetes HPA's: AbleToScale, ScalingActive, ScalingLimited, each with a reason and a message (docs/status.md).",
  examples: [
    { command: 'tide status -c tide.yaml', does: "every group of the config's store" },
    { command: 'tide status shop-web --store /var/lib/tide/tide.db --json', does: "one group's status as JSON" },
  ],
  flags: { ...storeFlags, json: { kind: 'boolean', description: 'print the statuses as a JSON array' } },
  positionals: { names: ['GROUP'], min: 0, max: 1, kind: 'string' },
  async run(args, io) {
    const path = await storePathOf(args)
    if (!existsSync(path)) throw new StoreError('TIDE_ERR_STORE_IO', path, `no store at ${path}: name it with --store or -c tide.yaml`)
    // Imported here, not above: `tide status --help` needs no SQLite.
    const { SqliteStore } = await import('../store/sqlite-store.ts')
    const store = SqliteStore.open(path)
    try {
      const wanted = args.positionals[0]
      const groups = wanted === undefined ? store.listGroupStatuses() : [wanted]
      const statuses: GroupStatus[] = []
      for (const g of groups) {
        // Written by this tide's controller: GroupStatus as plain JSON (src/controller/group-status.ts).
        const s = store.loadGroupStatus(g) as GroupStatus | undefined
        if (s !== undefined) statuses.push(s)
      }
      if (wanted !== undefined && statuses.length === 0) throw new StoreError('TIDE_ERR_STORE_IO', path, `no status of group '${wanted}' in ${path} (groups with one: ${store.listGroupStatuses().join(', ') || 'none'})`)
      if (args.boolean('json')) io.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`)
      else io.stdout.write(statuses.length === 0 ? `no group status in ${path} yet\n` : `${statuses.map(statusText).join('\n\n')}\n`)
      return 0
    } finally {
      store.close()
    }
  },
}
