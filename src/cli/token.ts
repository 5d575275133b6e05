/**
 * `tide token rotate`: replaces the running tide's API token through its API
 * (`POST /token/rotate`, docs/api.md) and prints the new one, alone, on stdout, so that a script
 * can capture it (`NEW=$(tide token rotate)`). The old token stops working at once. Refused when
 * the token comes from an environment variable (change the variable instead). The old token is
 * read as every API command reads it.
 */
import type { Command, CommandGroup } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf } from './api-client.ts'

/** `tide token rotate`. */
export const rotate: Command = {
  summary: "replace the running tide's API token and print the new one",
  usage: '[--api URL] [--token-file PATH] [--json]',
  description:
    "The new token is written to the state directory's api-token file (mode 0600, replaced whole) and printed once, alone, on stdout; the old one stops working at once. A token from the environment ($TIDE_API_TOKEN or api.tokenEnv) cannot be rotated here: change the variable and restart tide up. Needs the current token ($TIDE_API_TOKEN, else --token-file).",
  examples: [
    { command: 'tide token rotate', does: 'print the new token (the file .tide/api-token holds it too)' },
    { command: 'tide token rotate --token-file /srv/shop/.tide/api-token --api http://127.0.0.1:7071', does: 'rotate another tide; NEW=$(…) keeps the new token in a variable' },
  ],
  flags: { ...apiClientFlags, json: { kind: 'boolean', description: "print the API's answer as JSON ({token, path})" } },
  async run(args, io) {
    const baseUrl = apiUrlOf(args, 'tide token rotate')
    const r = await apiRequest({ baseUrl, method: 'POST', path: '/token/rotate', token: apiTokenOf(args, io.env), io })
    if (!r.ok) return r.exitCode
    const body = r.body as { token: string; path: string }
    io.stdout.write(args.boolean('json') ? `${JSON.stringify(body, null, 2)}\n` : `${body.token}\n`)
    return 0
  },
}

/** The `token` command group. */
export const command: CommandGroup = {
  summary: "manage the running tide's API token",
  subcommands: { rotate },
}
