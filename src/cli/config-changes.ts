/**
 * What `tide replay` and `tide apply` share: a tide.yaml's groups set against the groups in
 * force in a running tide (through its API), a readable line diff of each changed group's spec
 * as YAML, and a replay's two figure sets side by side (POST /groups/{name}/replay, docs/api.md).
 */
import { stringify } from 'yaml'
import type { ReplayFigures, ReplayResult } from '../app/replay.ts'
import { loadConfig } from '../spec/load.ts'
import type { GroupSpec } from '../spec/schema.ts'
import type { CommandIo } from './args.ts'
import { apiRequest, seg, tableText } from './api-client.ts'

/** How long a replay may take over the API, ms: 14 days of demand run in seconds, on a loaded machine in more. */
export const REPLAY_TIMEOUT_MS = 120_000

/** One group of the file beside the group of that name in force. */
export interface GroupChange {
  readonly group: string
  /** `added`: not in force; `changed`: in force with another spec; `unchanged`: the same spec. */
  readonly kind: 'added' | 'changed' | 'unchanged'
  /** The file's spec, defaults filled in, paths resolved against the file's folder. */
  readonly spec: GroupSpec
  /** The spec in force (absent for an added group). */
  readonly inForce?: GroupSpec
}

/** The file's groups against the running tide's, and the groups in force the file does not name. */
export interface ConfigChanges {
  readonly groups: readonly GroupChange[]
  /** Groups in force (active) that the file does not name. */
  readonly missing: readonly string[]
}

/** Where the API is and with which token; the io its errors are printed to. */
export interface ApiTarget {
  readonly baseUrl: string
  readonly token: string | undefined
  readonly io: CommandIo
}

/**
 * Reads `file` (validated as `tide validate` does: a ConfigError names the file and line) and
 * the groups in force (GET /groups, then GET /groups/{name} with the token, so `launch.env`
 * is compared as it is). `only` keeps one group of the file (a UsageError is the caller's).
 * Returns the changes, or the exit status when the API answered an error or nobody answered.
 */
export async function configChanges(file: string, target: ApiTarget, only?: string): Promise<ConfigChanges | { readonly exitCode: number }> {
  const config = loadConfig(file)
  const list = await apiRequest({ ...target, method: 'GET', path: '/groups' })
  if (!list.ok) return { exitCode: list.exitCode }
  const running = (list.body as { groups: { group: string; state: string }[] }).groups.filter((g) => g.state === 'active').map((g) => g.group)
  const groups: GroupChange[] = []
  for (const spec of config.groups) {
    if (only !== undefined && spec.group !== only) continue
    if (!running.includes(spec.group)) {
      groups.push({ group: spec.group, kind: 'added', spec })
      continue
    }
    const one = await apiRequest({ ...target, method: 'GET', path: `/groups/${seg(spec.group)}` })
    if (!one.ok) return { exitCode: one.exitCode }
    const inForce = (one.body as { spec: GroupSpec }).spec
    groups.push({ group: spec.group, kind: sameSpec(spec, inForce) ? 'unchanged' : 'changed', spec, inForce })
  }
  const named = new Set(config.groups.map((g) => g.group))
  return { groups, missing: running.filter((g) => !named.has(g)) }
}

/** Whether two specs (both with defaults filled in) are the same, whatever the order of their keys. */
export function sameSpec(a: GroupSpec, b: GroupSpec): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b))
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
}

/** A spec as YAML, keys sorted, for a diff that shows what changed rather than how keys were ordered. */
export function specYaml(spec: GroupSpec): string {
  return stringify(sorted(spec), { lineWidth: 0 })
}

/**
 * A unified-style line diff of `before` and `after` (longest common subsequence of lines):
 * `- ` lines only in before, `+ ` lines only in after, `  ` context, `context` lines around each
 * change and `…` between hunks. Empty when they are equal. O(n·m) in lines: specs are short.
 */
export function lineDiff(before: string, after: string, context = 2): string {
  const ops = diffOps(lines(before), lines(after))
  const keep = ops.map(() => false)
  ops.forEach((op, k) => {
    if (op.mark === ' ') return
    for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) keep[c] = true
  })
  const out: string[] = []
  let skipped = false
  ops.forEach((op, k) => {
    if (!keep[k]) {
      skipped = true
      return
    }
    if (skipped && out.length > 0) out.push('  …')
    skipped = false
    out.push(`${op.mark} ${op.line}`)
  })
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}

/** The lines of a text, without the empty one after a final newline. */
function lines(text: string): string[] {
  const out = text.split('\n')
  if (out.at(-1) === '') out.pop()
  return out
}

/** The edit script from `a` to `b` by longest common subsequence: kept (' '), removed ('-') and added ('+') lines in order. */
function diffOps(a: readonly string[], b: readonly string[]): { readonly mark: ' ' | '-' | '+'; readonly line: string }[] {
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lcs[i] as number[]
    const next = lcs[i + 1] as number[]
    for (let j = b.length - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0)
  }
  const ops: { readonly mark: ' ' | '-' | '+'; readonly line: string }[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ mark: ' ', line: a[i] ?? '' })
      i++
      j++
    } else if (i < a.length && (j >= b.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) ops.push({ mark: '-', line: a[i++] ?? '' })
    else ops.push({ mark: '+', line: b[j++] ?? '' })
  }
  return ops
}

/** Asks the API to replay `spec` for its group over `hours` (default: the API's 24 h). */
export async function requestReplay(target: ApiTarget, spec: GroupSpec, hours: number | undefined): Promise<{ ok: true; result: ReplayResult } | { ok: false; exitCode: number }> {
  const r = await apiRequest({ ...target, method: 'POST', path: `/groups/${seg(spec.group)}/replay`, body: { spec, ...(hours === undefined ? {} : { hours }) }, timeoutMs: REPLAY_TIMEOUT_MS })
  return r.ok ? { ok: true, result: r.body as ReplayResult } : { ok: false, exitCode: r.exitCode }
}

const num = (x: number, digits: number): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const signed = (x: number, digits: number, unit: string): string => (x === 0 ? '=' : `${x > 0 ? '+' : ''}${num(x, digits)}${unit}`)

/** A replay's two figure sets side by side, with the change, then its notes. */
export function replayText(r: ReplayResult): string {
  const hours = (r.toMs - r.fromMs) / 3_600_000
  const head = `${r.group}: replay of ${hours >= 48 ? `${num(hours / 24, 1)} days` : `${num(hours, 1)} h`} of recorded demand (${r.demandPoints} points, ${new Date(r.fromMs).toISOString().slice(0, 16).replace('T', ' ')} – ${new Date(r.toMs).toISOString().slice(0, 16).replace('T', ' ')} UTC), in ${num(r.elapsedMs / 1000, 1)} s`
  const row = (label: string, f: (x: ReplayFigures) => string, change: string): string[] => [label, f(r.current), f(r.proposed), change]
  const d = r.delta
  const table = tableText(
    ['', 'IN FORCE', 'PROPOSED', 'CHANGE'],
    [
      row('cost, instance-hours', (x) => num(x.costInstanceHours, 2), d.costPercent === null ? signed(d.costInstanceHours, 2, '') : signed(d.costPercent, 1, ' %')),
      row('cost ÷ oracle', (x) => num(x.costRatioToOracle, 2), ''),
      row('SLO violated', (x) => `${num(x.sloViolatedPercent, 2)} %`, signed(d.sloViolatedPercent, 2, ' pp')),
      row('failed requests', (x) => `${num(x.failedRequestsPercent, 3)} %`, signed(d.failedRequestsPercent, 3, ' pp')),
      row('peak instances', (x) => String(x.peakInstances), signed(d.peakInstances, 0, '')),
      row('decisions up/down/hold', (x) => `${x.decisions.up}/${x.decisions.down}/${x.decisions.hold}`, ''),
    ],
  )
  const indented = table
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
  return `${head}\n${indented}\n${r.notes.map((n) => `  note: ${n}\n`).join('')}`
}
