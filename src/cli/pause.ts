/**
 * `tide pause GROUP`: pauses a group's scaling in the running tide through its API
 * (`POST /groups/{name}/pause`, docs/api.md): every decision holds the count in force until
 * `tide resume GROUP`. Kept in the store: a restarted tide is still paused. Needs the API token.
 */
import type { Command } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg } from './api-client.ts'

/** The pause or resume command: the same request but for the verb, the same output. */
export function pauseCommand(verb: 'pause' | 'resume'): Command {
  const pausing = verb === 'pause'
  return {
    summary: pausing ? "pause a group's scaling in the running tide (it holds its count)" : "resume a paused group's scaling in the running tide",
    usage: 'GROUP [--api URL] [--token-file PATH] [--json]',
    description: pausing
      ? 'Every decision holds the count in force, with the reason PausedByOperator; unhealthy instances are still replaced. The pause is kept in the store: a restarted tide up is still paused. Needs the API token ($TIDE_API_TOKEN, else --token-file).'
      : 'The engine decides again from the next tick. Needs the API token ($TIDE_API_TOKEN, else --token-file).',
    examples: [
      { command: `tide ${verb} shop-web`, does: pausing ? 'hold shop-web at its current count' : 'let shop-web scale again' },
      { command: `tide ${verb} shop-web --api http://127.0.0.1:7071 --token-file /srv/shop/.tide/api-token`, does: 'the same, on a tide with another API port and state directory' },
    ],
    flags: { ...apiClientFlags, json: { kind: 'boolean', description: "print the API's answer as JSON" } },
    positionals: { names: ['GROUP'], min: 1, kind: 'string' },
    async run(args, io) {
      const group = args.positionals[0] ?? ''
      const baseUrl = apiUrlOf(args, `tide ${verb}`)
      const r = await apiRequest({ baseUrl, method: 'POST', path: `/groups/${seg(group)}/${verb}`, token: apiTokenOf(args, io.env), io })
      if (!r.ok) return r.exitCode
      const body = r.body as { group: string; paused: boolean; changed: boolean }
      if (args.boolean('json')) io.stdout.write(`${JSON.stringify(body, null, 2)}\n`)
      else io.stdout.write(`${body.group}: ${body.changed ? '' : 'already '}${body.paused ? 'paused' : 'resumed'}\n`)
      return 0
    },
  }
}

/** The `pause` command. */
export const command: Command = pauseCommand('pause')
