/**
 * `tide scale GROUP N [--for 30m]`: holds a group of the running tide at N instances through its
 * API (`POST /groups/{name}/scale`, docs/api.md), clamped to the group's min and max, for a while
 * (15 minutes unless --for says, a day at most) or until `tide scale GROUP --clear`. The engine's
 * decisions are explained but not acted on meanwhile. Needs the API token.
 */
import type { Command } from './args.ts'
import { UsageError } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg } from './api-client.ts'

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 }

/**
 * A duration as the command line writes it, in whole seconds: `90` or `90s`, `30m`, `2h`, `1d`,
 * or parts together (`1h30m`). Undefined for anything else (a fraction, a unit it does not know,
 * nothing at all).
 */
export function durationSecondsOf(text: string): number | undefined {
  const t = text.trim()
  if (/^[0-9]+$/.test(t)) return Number(t)
  if (!/^([0-9]+[smhd])+$/.test(t)) return undefined
  let seconds = 0
  for (const m of t.matchAll(/([0-9]+)([smhd])/g)) seconds += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1)
  return seconds
}

/** What `POST /groups/{name}/scale` answers (src/app/tide-service.ts ManualScaleAnswer). */
interface ScaleAnswer {
  readonly group: string
  readonly message: string
}

/** What `DELETE /groups/{name}/scale` answers. */
interface ClearAnswer {
  readonly group: string
  readonly cleared: boolean
}

/** The body of `POST /groups/{name}/scale` from N and --for, checked (UsageError naming the argument). */
function scaleBody(count: string, forText: string | undefined): { desired: number; holdSeconds?: number } {
  if (!/^[0-9]+$/.test(count)) throw new UsageError('tide scale', `N: a whole number of instances ≥ 0, got '${count}'`)
  if (forText === undefined) return { desired: Number(count) }
  const holdSeconds = durationSecondsOf(forText)
  if (holdSeconds === undefined || holdSeconds < 1) throw new UsageError('tide scale', `--for: a duration such as 90s, 30m, 2h or 1h30m, got '${forText}'`)
  return { desired: Number(count), holdSeconds }
}

/** One line for a person: what the hold is, or whether one was cleared. */
function answerText(a: ScaleAnswer | ClearAnswer): string {
  if ('message' in a) return `${a.group}: ${a.message}`
  return `${a.group}: ${a.cleared ? 'manual scale cleared; the engine decides again from the next tick' : 'no manual scale was in force'}`
}

/** The `scale` command. */
export const command: Command = {
  summary: 'hold a group of the running tide at a count for a while (or --clear it)',
  usage: 'GROUP [N] [--for DURATION] [--clear] [--api URL] [--token-file PATH] [--json]',
  description:
    "The count is clamped to the group's min and max (then its quota room and scale-in protection), and held for --for (15m by default, 1d at most) or until --clear: the engine's decisions are explained, not acted on, and unhealthy instances are still replaced. A new scale replaces the one in force. Needs the API token ($TIDE_API_TOKEN, else --token-file).",
  examples: [
    { command: 'tide scale shop-web 12', does: 'hold shop-web at 12 instances for 15 minutes' },
    { command: 'tide scale shop-web 20 --for 2h', does: 'hold it at 20 (or its max) for two hours' },
    { command: 'tide scale shop-web --clear', does: 'end the hold: the engine decides again' },
  ],
  flags: {
    ...apiClientFlags,
    for: { kind: 'string', description: 'how long to hold: 90s, 30m, 2h, 1h30m, 1d (at most), or seconds', valueName: 'DURATION', defaultText: '15m' },
    clear: { kind: 'boolean', description: 'end the manual scale in force instead' },
    json: { kind: 'boolean', description: "print the API's answer as JSON" },
  },
  positionals: { names: ['GROUP', 'N'], min: 1, max: 2, kind: 'string' },
  async run(args, io) {
    const [group = '', count] = args.positionals
    const clear = args.boolean('clear')
    const forText = args.string('for')
    if (clear && (count !== undefined || forText !== undefined)) throw new UsageError('tide scale', '--clear ends the hold in force: give it no count and no --for')
    if (!clear && count === undefined) throw new UsageError('tide scale', 'give the count to hold (tide scale GROUP N), or --clear')
    const request = clear ? { method: 'DELETE' as const, body: undefined } : { method: 'POST' as const, body: scaleBody(count ?? '', forText) }
    const r = await apiRequest({ baseUrl: apiUrlOf(args, 'tide scale'), path: `/groups/${seg(group)}/scale`, token: apiTokenOf(args, io.env), io, ...request })
    if (!r.ok) return r.exitCode
    if (args.boolean('json')) io.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`)
    else io.stdout.write(`${answerText(r.body as ScaleAnswer | ClearAnswer)}\n`)
    return 0
  },
}
