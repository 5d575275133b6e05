/**
 * `tide protect GROUP INSTANCE`: protects an instance from scale-in in the running tide through
 * its API (`POST /groups/{name}/instances/{id}/protect`, docs/api.md): scale-in picks other
 * instances. Kept in the store across restarts. Needs the API token.
 */
import type { Command } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg } from './api-client.ts'

/** The protect or unprotect command: the same request but for the verb, the same output. */
export function protectCommand(verb: 'protect' | 'unprotect'): Command {
  const protecting = verb === 'protect'
  return {
    summary: protecting ? 'protect an instance of the running tide from scale-in' : "lift an instance's scale-in protection",
    usage: 'GROUP INSTANCE [--api URL] [--token-file PATH] [--json]',
    description: `${protecting ? 'Scale-in picks other instances; a group whose only candidates are protected holds (ScaleInProtected). ' : ''}The instance must be one the group last observed ('tide get instances' lists them). Kept in the store across restarts. Needs the API token ($TIDE_API_TOKEN, else --token-file).`,
    examples: [
      { command: `tide ${verb} shop-web shop-web-3a803cc8`, does: protecting ? 'keep this instance through scale-in' : 'let scale-in pick this instance again' },
      { command: `tide ${verb} shop-web shop-web-3a803cc8 --api http://127.0.0.1:7071 --json`, does: "the same on another port, printing the API's answer" },
    ],
    flags: { ...apiClientFlags, json: { kind: 'boolean', description: "print the API's answer as JSON" } },
    positionals: { names: ['GROUP', 'INSTANCE'], min: 2, kind: 'string' },
    async run(args, io) {
      const [group = '', instance = ''] = args.positionals
      const baseUrl = apiUrlOf(args, `tide ${verb}`)
      const r = await apiRequest({ baseUrl, method: 'POST', path: `/groups/${seg(group)}/instances/${seg(instance)}/${verb}`, token: apiTokenOf(args, io.env), io })
      if (!r.ok) return r.exitCode
      const body = r.body as { group: string; instance: string; protected: boolean }
      if (args.boolean('json')) io.stdout.write(`${JSON.stringify(body, null, 2)}\n`)
      else io.stdout.write(`${body.group}/${body.instance}: ${body.protected ? 'protected from scale-in' : 'not protected'}\n`)
      return 0
    },
  }
}

/** The `protect` command. */
export const command: Command = protectCommand('protect')
