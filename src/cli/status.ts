/**
 * `tide status [GROUP]`: each group's status as of its last tick (src/controller/group-status.ts),
 * from the running tide's API (`GET /groups`, docs/api.md) by default, or with `--store PATH` or
 * `-c tide.yaml` read from the store directly (the controller saves it there at the end of every
 * tick, failed ones too), so that it also works after tide stopped. Says which one answered. From a
 * store it also lists the data-plane processes recorded in the state directory (docs/ha.md).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { GroupStatus } from '../controller/group-status.ts'
import { sizeText } from '../core/size.ts'
import { durationText } from '../engine/risk.ts'
import type { InstancePhase } from '../engine/types.ts'
import { StoreError } from '../store/errors.ts'
import { EXIT_UNREACHABLE, apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg } from './api-client.ts'
import { UsageError, type Command, type CommandIo, type ParsedArgs } from './args.ts'
import { storeOf } from './store-flags.ts'
import type { TideStore } from '../store/tide-store.ts'
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

/** A group as `GET /groups` answers it: the status is null before the group's first tick. */
interface ApiGroup {
  readonly group: string
  readonly paused: boolean
  readonly status: GroupStatus | null
}

/** The statuses as the terminal or --json shows them; `source` says who answered (stdout's first line, or stderr with --json). */
function print(io: CommandIo, args: ParsedArgs, source: string, statuses: readonly GroupStatus[], empty: string): void {
  if (args.boolean('json')) {
    io.stderr.write(`tide: status ${source}\n`)
    io.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`)
    return
  }
  io.stdout.write(`(${source})\n${statuses.length === 0 ? empty : statuses.map(statusText).join('\n\n')}\n`)
}

/** The statuses from the running tide's API; the exit status. */
async function fromApi(args: ParsedArgs, io: CommandIo): Promise<number> {
  const baseUrl = apiUrlOf(args, 'tide status')
  const wanted = args.positionals[0]
  const r = await apiRequest({ baseUrl, method: 'GET', path: wanted === undefined ? '/groups' : `/groups/${seg(wanted)}`, token: apiTokenOf(args, io.env), io })
  if (!r.ok) {
    if (r.exitCode === EXIT_UNREACHABLE) io.stderr.write("tide: a stopped tide's last statuses are in its store: tide status --store PATH (or -c tide.yaml)\n")
    return r.exitCode
  }
  const groups = wanted === undefined ? (r.body as { groups: ApiGroup[] }).groups : [r.body as ApiGroup]
  const waiting = groups.filter((g) => g.status === null).map((g) => g.group)
  const statuses = groups.flatMap((g) => (g.status === null ? [] : [g.status]))
  const note = waiting.length === 0 ? '' : `; before a first tick: ${waiting.join(', ')}`
  print(io, args, `from the API at ${baseUrl}${await leadershipNote(baseUrl, args, io)}${note}`, statuses, groups.length === 0 ? 'no groups' : 'no group has a status yet')
  return 0
}

/**
 * Who leads, as the tide that answered says (GET /status, docs/ha.md): '' for a tide without an
 * election (or one too old to say); else `; standby, the leader is X (epoch N)` or `; leader (epoch N)`.
 */
async function leadershipNote(baseUrl: string, args: ParsedArgs, io: CommandIo): Promise<string> {
  const quiet: CommandIo = { ...io, stderr: { write: () => true } }
  const r = await apiRequest({ baseUrl, method: 'GET', path: '/status', token: apiTokenOf(args, io.env), io: quiet })
  if (!r.ok) return ''
  const s = r.body as { role?: string; leader?: string; epoch?: number }
  const epoch = s.epoch === undefined ? '' : ` (epoch ${String(s.epoch)})`
  if (s.role === 'leader') return `; the leader${epoch}`
  if (s.role === 'standby') return `; a standby, reading the store: ${s.leader === undefined ? 'no tide leads right now' : `the leader is ${s.leader}${epoch}`}`
  return ''
}

/** The statuses from the store (a SQLite file, or a PostgreSQL database); the exit status. */
async function fromStore(args: ParsedArgs, io: CommandIo): Promise<number> {
  const where = await storeOf(args)
  if (where.kind === 'sqlite' && !existsSync(where.path)) throw new StoreError('TIDE_ERR_STORE_IO', where.path, `no store at ${where.path}: name it with --store or -c tide.yaml`)
  // Imported here, not above: `tide status --help` needs neither SQLite nor pg.
  const store: TideStore =
    where.kind === 'sqlite'
      ? (await import('../store/sqlite-store.ts')).SqliteStore.open(where.path, { migrate: false })
      : await (await import('../store/postgres/postgres-store.ts')).PostgresStore.open(where.url, { poolSize: 1, migrate: false })
  try {
    const wanted = args.positionals[0]
    // Written by a tide's controller: GroupStatus as plain JSON (src/controller/group-status.ts).
    const all = (await store.readGroupStatuses()) as GroupStatus[]
    const statuses = wanted === undefined ? all : all.filter((s) => s.group === wanted)
    if (wanted !== undefined && statuses.length === 0) {
      throw new StoreError('TIDE_ERR_STORE_IO', store.location, `no status of group '${wanted}' in ${store.location} (groups with one: ${all.map((s) => s.group).join(', ') || 'none'})`)
    }
    print(io, args, `from the store ${store.location}, as of each group's last tick`, statuses, `no group status in ${store.location} yet`)
    // Imported here: the data-plane record's schema pulls in zod, which `tide status --help` and --api do not need.
    const { dataPlaneLines } = await import('./data-plane-lines.ts')
    const planes = dataPlaneLines(resolve(args.string('state-dir') ?? '.tide'))
    if (planes.length > 0) (args.boolean('json') ? io.stderr : io.stdout).write(`${planes.join('\n')}\n`)
    return 0
  } finally {
    await store.close()
  }
}

/** The `status` command. */
export const command: Command = {
  summary: "show each group's last status: instances, conditions, last decision",
  usage: '[GROUP] [--api URL | --store PATH|URL | -c tide.yaml] [--json]',
  description:
    "Asks the running tide's API (GET /groups; --api, default http://127.0.0.1:7070). With --store PATH|URL or -c tide.yaml it reads the status the controller saves in the store at the end of every tick (failed ticks too) instead, so it works after tide stopped; it never migrates the store (one of another schema version than this tide's is refused, TIDE_ERR_STORE_VERSION). The first line (stderr with --json) says which one answered; from a store, the data-plane processes recorded in --state-dir (default .tide) follow, alive or not, so that one serving with no tide is seen (docs/ha.md). Conditions follow the Kubernetes HPA's: AbleToScale, ScalingActive, ScalingLimited, each with a reason and a message (docs/status.md). Exit 3 when no tide answers at the URL.",
  examples: [
    { command: 'tide status', does: 'every group of the tide running on 127.0.0.1:7070' },
    { command: 'tide status shop-web --api http://127.0.0.1:7071 --json', does: "one group's status as JSON, from a tide on another port" },
    { command: 'tide status -c tide.yaml', does: "every group from the config's store (no tide running needed)" },
    { command: 'tide status shop-web --store /var/lib/tide/tide.db --json', does: "one group's status from a store file, as JSON" },
    { command: 'tide status --store postgres://tide@db.internal/tide', does: 'every group from a PostgreSQL store (what the leader flushed last; the password from PGPASSWORD or ~/.pgpass)' },
  ],
  flags: {
    ...apiClientFlags,
    store: { kind: 'string', description: 'read this store file, or PostgreSQL URL (postgres://…), instead of asking the API (works with no tide running)', valueName: 'PATH|URL' },
    config: { kind: 'file', short: 'c', description: 'read the store that global.store (url, else path) of this tide.yaml names, instead of asking the API' },
    json: { kind: 'boolean', description: 'print the statuses as a JSON array' },
    'state-dir': { kind: 'string', description: "with --store or -c: list the data-plane processes recorded in this state directory too (docs/ha.md)", defaultText: '.tide' },
  },
  positionals: { names: ['GROUP'], min: 0, max: 1, kind: 'string' },
  run(args, io) {
    const fromFile = args.string('store') !== undefined || args.string('config') !== undefined
    if (fromFile && args.string('api') !== undefined) throw new UsageError('tide status', '--api asks the running tide; --store and -c read a store file: give one')
    return fromFile ? fromStore(args, io) : fromApi(args, io)
  },
}
