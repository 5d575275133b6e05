/**
 * `tide get groups|instances|events [-w]`: reads the running tide through its REST API
 * (docs/api.md) and prints short tables, or with `--json` the API's JSON exactly as it answered.
 * Reads need no token from loopback; the token is sent when there is one (a tide on another host
 * needs it). With `-w` it keeps watching (src/cli/watch.ts): events as they happen, groups and
 * instances again whenever they change.
 */
import { UsageError, type Command, type ParsedArgs } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg, tableText } from './api-client.ts'
import { durationText } from '../engine/risk.ts'

/** What `tide get` reads. */
export const RESOURCES = ['groups', 'instances', 'events'] as const

/** A group as `GET /groups` answers it (the fields the tables show). */
export interface GroupRow {
  readonly group: string
  readonly provider: string
  readonly state: string
  readonly paused: boolean
  readonly status: {
    readonly desiredReplicas: number
    readonly instances: readonly { readonly id: string; readonly phase: string; readonly protectedFromScaleIn?: boolean; readonly address?: { readonly host: string; readonly port: number } }[]
    readonly lastDecision?: { readonly reason?: string }
    readonly risks?: readonly { readonly kind: string; readonly etaSeconds: number }[]
  } | null
}

/** An event as `GET /events` answers it. */
export interface EventRow {
  /** The store's id; absent for an event the store failed to write. */
  readonly id?: number
  readonly atMs: number
  readonly group: string
  readonly type: string
  readonly message: string
}

/** `2026-11-11 04:00:30` (UTC) of an epoch-ms time. */
function timeText(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 19).replace('T', ' ')
}

/** The risk radar's risks in a cell: `max in ~20 min, budget now`, or `-`. */
export function risksCell(risks: readonly { readonly kind: string; readonly etaSeconds: number }[] | undefined): string {
  if (risks === undefined || risks.length === 0) return '-'
  return risks.map((r) => `${r.kind} ${r.etaSeconds === 0 ? 'now' : `in ~${durationText(r.etaSeconds)}`}`).join(', ')
}

/** The groups as a table: one row each, with the count, instances in service of all, the last decision's reason and the risks ahead. */
export function groupsTable(groups: readonly GroupRow[]): string {
  if (groups.length === 0) return 'no groups\n'
  return tableText(
    ['GROUP', 'PROVIDER', 'STATE', 'PAUSED', 'DESIRED', 'IN SERVICE', 'LAST REASON', 'RISKS'],
    groups.map((g) => [
      g.group,
      g.provider,
      g.state,
      g.paused ? 'yes' : 'no',
      g.status === null ? '-' : String(g.status.desiredReplicas),
      g.status === null ? '-' : `${g.status.instances.filter((i) => i.phase === 'in-service').length}/${g.status.instances.length}`,
      g.status?.lastDecision?.reason ?? '-',
      risksCell(g.status?.risks),
    ]),
  )
}

/** Every group's instances as a table (as of each group's last tick). */
export function instancesTable(groups: readonly GroupRow[]): string {
  const rows = groups.flatMap((g) => (g.status?.instances ?? []).map((i) => [g.group, i.id, i.phase, i.protectedFromScaleIn === true ? 'yes' : 'no', i.address === undefined ? '-' : `${i.address.host}:${i.address.port}`]))
  return rows.length === 0 ? 'no instances\n' : tableText(['GROUP', 'INSTANCE', 'PHASE', 'PROTECTED', 'ADDRESS'], rows)
}

/** One page of events as a table, newest first, with how to get the next page. */
export function eventsTable(page: { readonly events: readonly EventRow[]; readonly nextCursor?: string }): string {
  if (page.events.length === 0) return 'no events\n'
  const text = tableText(['TIME (UTC)', 'GROUP', 'TYPE', 'MESSAGE'], page.events.map((e) => [timeText(e.atMs), e.group, e.type, e.message]))
  return page.nextCursor === undefined ? text : `${text}(older events: add --cursor ${page.nextCursor})\n`
}

/** One event as a line of `tide get events -w`: the columns of the events table, unaligned. */
export function eventLine(e: EventRow): string {
  return `${timeText(e.atMs)}  ${e.group}  ${e.type}  ${e.message}\n`
}

/** `/events?…` with the query the flags ask for. */
export function eventsPath(args: ParsedArgs): string {
  const q = new URLSearchParams()
  for (const name of ['group', 'type', 'cursor']) {
    const v = args.string(name)
    if (v !== undefined) q.set(name, v)
  }
  const limit = args.number('limit')
  if (limit !== undefined) q.set('limit', String(limit))
  return `/events${q.size === 0 ? '' : `?${q.toString()}`}`
}

/** The `get` command. */
export const command: Command = {
  summary: 'read the running tide through its API: groups, instances, events',
  usage: 'groups|instances|events [--group NAME] [--type T,…] [--limit N] [--cursor C] [-w] [--api URL] [--json]',
  description:
    "groups: each group's state, whether paused, its count and instances in service, the last decision's reason, and the risks the radar sees ahead (max, quota, budget, with their ETA). instances: every instance with its phase and scale-in protection. events: the event log, newest first, a page at a time (--group, --type, --limit, --cursor). With --json, the API's answer as it is (GET /groups, GET /groups/NAME with --group, GET /events). With -w (watch), events: the latest page, then every new event from GET /events/stream as it is recorded; groups and instances: the table again whenever it changes (looked at on every event and every 2 s); until Ctrl-C or SIGTERM (exit 0), the end of the stream (exit 0), or the tide going away (exit 3). Exit 3 when no tide answers at the URL.",
  examples: [
    { command: 'tide get groups', does: 'the groups of the tide on 127.0.0.1:7070' },
    { command: 'tide get instances --group shop-web', does: "shop-web's instances" },
    { command: 'tide get events --group shop-web --type decision,launch --limit 20', does: "shop-web's last 20 decisions and launches" },
    { command: 'tide get groups --json --api http://127.0.0.1:7071', does: "the API's JSON, from a tide on another port" },
    { command: 'tide get events -w --group shop-web', does: "shop-web's latest events, then each new one as it happens, until Ctrl-C" },
    { command: 'tide get instances -w --json', does: 'the instances, again as one JSON line whenever they change' },
  ],
  flags: {
    ...apiClientFlags,
    group: { kind: 'string', description: 'one group only', valueName: 'NAME' },
    type: { kind: 'string', description: 'events: event types, comma-separated (docs/api.md)', valueName: 'T,…' },
    limit: { kind: 'positive-int', max: 10_000, description: 'events: events per page, up to 10000', defaultText: '100' },
    cursor: { kind: 'string', description: 'events: the page after the one that printed this cursor', valueName: 'C' },
    json: { kind: 'boolean', description: "print the API's JSON as it answered (with -w: one JSON document per line)" },
    watch: { kind: 'boolean', short: 'w', description: 'keep watching: events as they happen; groups and instances again when they change (Ctrl-C stops)' },
  },
  positionals: { names: ['RESOURCE'], min: 1, kind: 'string', choices: RESOURCES },
  async run(args, io) {
    const what = args.positionals[0] ?? ''
    if (what !== 'events') {
      for (const f of ['type', 'limit', 'cursor']) if (args.string(f) !== undefined || args.number(f) !== undefined) throw new UsageError('tide get', `--${f} applies to 'tide get events' only`)
    }
    if (args.boolean('watch') && args.string('cursor') !== undefined) throw new UsageError('tide get', '--cursor pages back through older events; -w follows new ones: give one')
    const baseUrl = apiUrlOf(args, 'tide get')
    const token = apiTokenOf(args, io.env)
    if (args.boolean('watch')) {
      // Imported here: a plain read needs no stream client.
      const { watchEvents, watchSnapshot } = await import('./watch.ts')
      const target = { baseUrl, token, io, json: args.boolean('json'), streamQuery: streamQueryOf(args) }
      if (what === 'events') return watchEvents(target, readPath(what, args), (e) => eventLine(e as EventRow))
      return watchSnapshot(target, readPath(what, args), (body) => render(what, args, body))
    }
    const r = await apiRequest({ baseUrl, method: 'GET', path: readPath(what, args), token, io })
    if (!r.ok) return r.exitCode
    io.stdout.write(args.boolean('json') ? `${JSON.stringify(r.body, null, 2)}\n` : render(what, args, r.body))
    return 0
  },
}

/** The query of `GET /events/stream` for `-w`: the group (every event of it, or with --type those types; any group's for groups and instances). */
function streamQueryOf(args: ParsedArgs): string {
  const q = new URLSearchParams()
  for (const name of ['group', 'type']) {
    const v = args.string(name)
    if (v !== undefined) q.set(name, v)
  }
  return q.toString()
}

/** The API path that `tide get WHAT` reads. */
export function readPath(what: string, args: ParsedArgs): string {
  const group = args.string('group')
  return what === 'events' ? eventsPath(args) : group === undefined ? '/groups' : `/groups/${seg(group)}`
}

/** The table of an API answer to readPath(what). */
export function render(what: string, args: ParsedArgs, body: unknown): string {
  if (what === 'events') return eventsTable(body as { events: EventRow[]; nextCursor?: string })
  const groups = args.string('group') === undefined ? (body as { groups: GroupRow[] }).groups : [body as GroupRow]
  return what === 'groups' ? groupsTable(groups) : instancesTable(groups)
}
