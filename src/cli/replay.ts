/**
 * `tide replay -f new.yaml [--group NAME] [--hours N] [--json]`: for each group of the file whose
 * spec differs from the one in force in the running tide, replays both on the group's own
 * recorded demand through the API (`POST /groups/{name}/replay`, docs/api.md) and prints the two
 * figure sets side by side. Nothing is applied (`tide apply` does that). Needs the API token.
 */
import { UsageError, type Command } from './args.ts'
import { apiClientFlags, apiTokenOf, apiUrlOf } from './api-client.ts'
import { configChanges, replayText, requestReplay } from './config-changes.ts'
import { MAX_REPLAY_HOURS } from '../app/replay.ts'
import type { ReplayResult } from '../app/replay.ts'

const COMMAND_PATH = 'tide replay'

/** The `replay` command. */
export const command: Command = {
  summary: "replay a changed tide.yaml on each group's recorded demand beside the config in force",
  usage: '-f FILE [--group NAME] [--hours N] [--api URL] [--token-file PATH] [--json]',
  description: [
    'For every group of the file whose spec differs from the one the running tide has in force, runs the simulator twice on the group\'s own recorded demand of the last --hours (default 24, at most 336): once with the spec in force, once with the file\'s, from the same start. Prints cost (instance-hours and ÷ the perfect-foresight oracle), time outside the SLO, failed requests, peak instances and decisions for both. Nothing is applied.',
    'Groups the running tide does not have yet have no recorded demand and are skipped (said so). Needs the API token ($TIDE_API_TOKEN, else --token-file). Exit 0 when every replay ran, 1 when the API refused one (too little demand: TIDE_ERR_API_INSUFFICIENT_DATA), 3 when no tide answers.',
  ].join('\n\n'),
  examples: [
    { command: 'tide replay -f tide.yaml', does: 'judge every changed group of tide.yaml on the last 24 h' },
    { command: 'tide replay -f new.yaml --group shop-web --hours 168', does: "shop-web's change on the last week of its demand" },
    { command: 'tide replay -f new.yaml --json', does: 'the API\'s answers as a JSON array' },
  ],
  flags: {
    ...apiClientFlags,
    file: { kind: 'file', short: 'f', description: 'the tide.yaml with the proposed specs', required: true },
    group: { kind: 'string', description: 'replay this group of the file only', valueName: 'NAME' },
    hours: { kind: 'positive-number', max: MAX_REPLAY_HOURS, description: 'hours of recorded demand to replay', defaultText: '24', valueName: 'N' },
    json: { kind: 'boolean', description: "print the API's answers as one JSON array" },
  },
  async run(args, io) {
    const file = args.requiredString('file')
    const hours = args.number('hours')
    const only = args.string('group')
    const target = { baseUrl: apiUrlOf(args, COMMAND_PATH), token: apiTokenOf(args, io.env), io }
    const changes = await configChanges(file, target, only)
    if ('exitCode' in changes) return changes.exitCode
    if (only !== undefined && changes.groups.length === 0) throw new UsageError(COMMAND_PATH, `--group ${only}: ${file} has no group '${only}'`)
    const json = args.boolean('json')
    const results: ReplayResult[] = []
    let exitCode = 0
    for (const c of changes.groups) {
      if (c.kind !== 'changed') {
        if (!json) io.stdout.write(c.kind === 'added' ? `${c.group}: not in the running tide yet: no recorded demand to replay\n` : `${c.group}: unchanged\n`)
        continue
      }
      const r = await requestReplay(target, c.spec, hours)
      if (!r.ok) {
        exitCode = r.exitCode
        if (exitCode !== 1) return exitCode
        continue
      }
      results.push(r.result)
      if (!json) io.stdout.write(replayText(r.result))
    }
    if (json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
    return exitCode
  },
}
