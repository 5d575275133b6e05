/**
 * `tide apply -f tide.yaml [--yes] [--hours N] [--prune]`: brings the running tide's groups to
 * what the file says, through its API, after showing what would change: a line diff of each
 * changed group's spec (in force → file, as YAML), the replay of each changed group on its own
 * recorded demand (`POST /groups/{name}/replay`), then `apply? [y/N]` on a terminal. It PUTs
 * each changed or added group (`PUT /groups/{name}`); groups in force that the file does not
 * name are kept (and listed) unless `--prune`, which DELETEs them. Without a terminal it needs
 * `--yes`: it refuses with exit 2 and changes nothing. Same client, token and exit codes as
 * `tide get` (api-client.ts). Like PUT, the change lives in the running tide, not in its config
 * file: edit that too (or apply the file the running tide was started with).
 */
import { createInterface } from 'node:readline/promises'
import type { Command, CommandIo } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg } from './api-client.ts'
import { configChanges, lineDiff, replayText, requestReplay, specYaml, type ApiTarget, type ConfigChanges, type GroupChange } from './config-changes.ts'
import { MAX_REPLAY_HOURS } from '../app/replay.ts'

const COMMAND_PATH = 'tide apply'

/** Exit status when the change needs a confirmation that cannot be asked for (no terminal, no --yes). */
export const EXIT_NOT_CONFIRMED = 2

/**
 * Asks the operator a yes/no question; resolves true for yes. undefined when there is no one to
 * ask (stdin or stdout is not a terminal).
 */
export type Confirm = ((question: string) => Promise<boolean>) | undefined

/** The confirmation of a real terminal: `question` on stdout, one line from stdin; only `y`/`yes` is yes. Undefined without a TTY. */
export function terminalConfirm(io: CommandIo): Confirm {
  if (!process.stdin.isTTY || io.stdout.isTTY !== true) return undefined
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout })
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim())
    } finally {
      rl.close()
    }
  }
}

/** The apply command, asking with `confirm` (tests pass one; the real CLI asks the terminal). */
export function applyCommand(confirmOf: (io: CommandIo) => Confirm = terminalConfirm): Command {
  return {
    summary: 'apply a tide.yaml to the running tide: diff, replay, confirm, then change each group',
    usage: '-f FILE [--yes] [--hours N] [--prune] [--api URL] [--token-file PATH]',
    description: [
      "Compares each group of the file with the one in force in the running tide and prints a line diff of each changed group's spec (YAML: - in force, + file). Each changed group is then replayed on its own recorded demand of the last --hours (default 24), in force beside proposed (as `tide replay` prints it); a group too young to replay says so and does not stop the apply.",
      'Then it asks "apply? [y/N]" on a terminal; with --yes it does not ask; without a terminal and without --yes it refuses (exit 2) and changes nothing. Applying PUTs each changed and added group, validated whole by the running tide as tide.yaml is. Groups in force that the file does not name are kept and listed, unless --prune removes them (their instances drain first).',
      'The change lives in the running tide: a restart or a SIGHUP goes back to its own config file. Needs the API token ($TIDE_API_TOKEN, else --token-file). Exit 0 when applied (or nothing to do), 1 when the API refused a change, 2 when not confirmed, 3 when no tide answers.',
    ].join('\n\n'),
    examples: [
      { command: 'tide apply -f tide.yaml', does: 'show the diff and the replays, then ask before applying' },
      { command: 'tide apply -f tide.yaml --yes --hours 72', does: 'replay on 3 days of demand and apply without asking (scripts, CI)' },
      { command: 'tide apply -f tide.yaml --yes --prune', does: 'also remove the groups the file no longer names' },
    ],
    flags: {
      ...apiClientFlags,
      file: { kind: 'file', short: 'f', description: 'the tide.yaml to apply', required: true },
      yes: { kind: 'boolean', short: 'y', description: 'apply without asking (needed without a terminal)' },
      hours: { kind: 'positive-number', max: MAX_REPLAY_HOURS, description: 'hours of recorded demand each changed group is replayed on', defaultText: '24', valueName: 'N' },
      prune: { kind: 'boolean', description: 'remove the groups in force that the file does not name' },
    },
    async run(args, io) {
      const file = args.requiredString('file')
      const hours = args.number('hours')
      const target = { baseUrl: apiUrlOf(args, COMMAND_PATH), token: apiTokenOf(args, io.env), io }
      const changes = await configChanges(file, target)
      if ('exitCode' in changes) return changes.exitCode
      const plan: Plan = { put: changes.groups.filter((c) => c.kind !== 'unchanged'), remove: args.boolean('prune') ? changes.missing : [] }
      printPlan(io, file, changes, plan)
      if (plan.put.length === 0 && plan.remove.length === 0) {
        io.stdout.write('nothing to apply\n')
        return 0
      }
      const replayed = await replayChanged(target, plan, hours)
      if (replayed !== 0) return replayed
      const what = [...plan.put.map((c) => `${c.kind === 'added' ? 'add' : 'change'} ${c.group}`), ...plan.remove.map((g) => `remove ${g}`)].join(', ')
      if (!args.boolean('yes')) {
        const confirm = confirmOf(io)
        if (confirm === undefined) {
          io.stderr.write(`tide: not applied (${what}): no terminal to ask on; pass --yes to apply without asking\n`)
          return EXIT_NOT_CONFIRMED
        }
        if (!(await confirm(`apply? (${what}) [y/N] `))) {
          io.stdout.write('not applied\n')
          return 0
        }
      }
      return carryOut(target, plan)
    },
  }
}

/** What applying does: the groups to PUT (changed and added) and the groups to DELETE (with --prune). */
interface Plan {
  readonly put: readonly GroupChange[]
  readonly remove: readonly string[]
}

/** Each group's state against the file, the diff of each changed or added one, and the groups the file leaves out. */
function printPlan(io: CommandIo, file: string, changes: ConfigChanges, plan: Plan): void {
  for (const c of changes.groups) {
    if (c.kind === 'unchanged') io.stdout.write(`${c.group}: unchanged\n`)
    else if (c.kind === 'added') io.stdout.write(`${c.group}: added (not in the running tide yet)\n${lineDiff('', specYaml(c.spec))}`)
    else io.stdout.write(`${c.group}: changed (- in force, + ${file})\n${lineDiff(specYaml(c.inForce ?? c.spec), specYaml(c.spec))}`)
  }
  if (changes.missing.length === 0) return
  io.stdout.write(plan.remove.length > 0 ? `to remove (--prune; their instances drain first): ${changes.missing.join(', ')}\n` : `in force but not in ${file} (kept; --prune removes them): ${changes.missing.join(', ')}\n`)
}

/**
 * Replays each changed group and prints the figures; a replay the API refuses (too little demand)
 * is said and does not stop the apply. Returns 0, or the exit status when no tide answered.
 */
async function replayChanged(target: ApiTarget, plan: Plan, hours: number | undefined): Promise<number> {
  for (const c of plan.put) {
    if (c.kind !== 'changed') continue
    const r = await requestReplay(target, c.spec, hours)
    if (r.ok) target.io.stdout.write(replayText(r.result))
    else if (r.exitCode !== 1) return r.exitCode
    else target.io.stdout.write(`${c.group}: no replay (the API's answer is above); applying does not depend on it\n`)
  }
  return 0
}

/** PUTs and DELETEs what the plan says, each said as done; 1 when the API refused any, 3 when no tide answered. */
async function carryOut(target: ApiTarget, plan: Plan): Promise<number> {
  let exitCode = 0
  const steps = [
    ...plan.put.map((c) => ({ group: c.group, method: 'PUT' as const, body: c.spec })),
    ...plan.remove.map((g) => ({ group: g, method: 'DELETE' as const, body: undefined })),
  ]
  for (const s of steps) {
    const r = await apiRequest({ ...target, method: s.method, path: `/groups/${seg(s.group)}`, ...(s.body === undefined ? {} : { body: s.body }) })
    if (!r.ok) {
      if (r.exitCode !== 1) return r.exitCode
      exitCode = 1
      continue
    }
    target.io.stdout.write(s.method === 'PUT' ? `${s.group}: ${(r.body as { outcome: string }).outcome}\n` : `${s.group}: removing (its instances drain, then stop)\n`)
  }
  return exitCode
}

/** The `apply` command. */
export const command: Command = applyCommand()
