/**
 * `tide get groups|instances|events`: reads the running tide through its REST API (docs/api.md)
 * and prints short tables, or with `--json` the API's JSON exactly as it answered. Reads need no
 * token from loopback; the token is sent when there is one (a tide on another host needs it).
 */
import { UsageError, type Command, type ParsedArgs } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg, tableText } from './api-client.ts'

/** What `tide get` reads. */
export const RESOURCES = ['groups', 'instances', 'events'] as const

/** A group as `GET /groups` answers it (the fields the tables show). */
interface GroupRow {
  readonly group: string
  readonly provider: string
  readonly state: string
  readonly paused: boolean
  readonly status: {
    readonly desiredReplicas: number
    readonly instances: readonly { readonly id: string; readonly phase: string; readonly protectedFromScaleIn?: boolean; readonly address?: { readonly host: string; readonly port: number } }[]
    readonly lastDecision?: { readonly reason?: string }
  } | null
}

/** An event as `GET /events` answers it. */
interface EventRow {
  readonly atMs: number
  readonly group: string
  readonly type: string
  readonly message: string
}

/** `2026-11-11 04:00:30` (UTC) of an epoch-ms time. */
function timeText(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 19).replace('T', ' ')
}

/** The groups as a table: one row each, with the count, instances in service of all, and the last decision's reason. */
export function groupsTable(groups: readonly GroupRow[]): string {
  if (groups.length === 0) return 'no groups\n'
  return tableText(
    ['GROUP', 'PROVIDER', 'STATE', 'PAUSED', 'DESIRED', 'IN SERVICE', 'LAST REASON'],
    groups.map((g) => [
      g.group,
      g.provider,
      g.state,
      g.paused ? 'yes' : 'no',
      g.status === null ? '-' : String(g.status.desiredReplicas),
      g.status === null ? '-' : `${g.status.instances.filter((i) => i.phase === 'in-service').length}/${g.status.instances.length}`,
      g.status?.lastDecision?.reason ?? '-',
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

/** `/events?…` with the query the flags ask for. */
function eventsPath(args: ParsedArgs): string {
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
  usage: 'groups|instances|events [--group NAME] [--type T,…] [--limit N] [--cursor C] [--api URL] [--json]',
  description:
    "groups: each group's state, whether paused, its count and instances in service, the last decision's reason. instances: every instance with its phase and scale-in protection. events: the event log, newest first, a page at a time (--group, --type, --limit, --cursor). With --json, the API's answer as it is (GET /groups, GET /groups/NAME with --group, GET /events). Exit 3 when no tide answers at the URL.",
  examples: [
    { command: 'tide get groups', does: 'the groups of the tide on 127.0.0.1:7070' },
    { command: 'tide get instances --group shop-web', does: "shop-web's instances" },
    { command: 'tide get events --group shop-web --type decision,launch --limit 20', does: "shop-web's last 20 decisions and launches" },
    { command: 'tide get groups --json --api http://127.0.0.1:7071', does: "the API's JSON, from a tide on another port" },
  ],
  flags: {
    ...apiClientFlags,
    group: { kind: 'string', description: 'one group only', valueName: 'NAME' },
    type: { kind: 'string', description: 'events: event types, comma-separated (docs/api.md)', valueName: 'T,…' },
    limit: { kind: 'positive-int', max: 10_000, description: 'events: events per page, up to 10000', defaultText: '100' },
    cursor: { kind: 'string', description: 'events: the page after the one that printed this cursor', valueName: 'C' },
    json: { kind: 'boolean', description: "print the API's JSON as it answered" },
  },
  positionals: { names: ['RESOURCE'], min: 1, kind: 'string' },
  async run(args, io) {
    const what = args.positionals[0] ?? ''
    if (!(RESOURCES as readonly string[]).includes(what)) throw new UsageError('tide get', `'${what}' is not one of ${RESOURCES.join(', ')}`)
    if (what !== 'events') {
      for (const f of ['type', 'limit', 'cursor']) if (args.string(f) !== undefined || args.number(f) !== undefined) throw new UsageError('tide get', `--${f} applies to 'tide get events' only`)
    }
    const baseUrl = apiUrlOf(args, 'tide get')
    const group = args.string('group')
    const path = what === 'events' ? eventsPath(args) : group === undefined ? '/groups' : `/groups/${seg(group)}`
    const r = await apiRequest({ baseUrl, method: 'GET', path, token: apiTokenOf(args, io.env), io })
    if (!r.ok) return r.exitCode
    if (args.boolean('json')) {
      io.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`)
      return 0
    }
    if (what === 'events') {
      io.stdout.write(eventsTable(r.body as { events: EventRow[]; nextCursor?: string }))
      return 0
    }
    const groups = group === undefined ? (r.body as { groups: GroupRow[] }).groups : [r.body as GroupRow]
    io.stdout.write(what === 'groups' ? groupsTable(groups) : instancesTable(groups))
    return 0
  },
}
