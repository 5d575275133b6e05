/**
 * `tide standby GROUP INSTANCE`: puts an instance of the running tide in standby through its API
 * (`POST /groups/{name}/instances/{id}/standby`, docs/api.md; AWS's EnterStandby): drained, out
 * of the router's targets and of the group's capacity, still running. `--exit` brings it back
 * (`…/in-service`, AWS's ExitStandby). Needs the API token.
 */
import type { Command } from './args.ts'
import { UsageError } from './args.ts'
import { apiClientFlags, apiRequest, apiTokenOf, apiUrlOf, seg } from './api-client.ts'

/** The `standby` command. */
export const command: Command = {
  summary: 'put an instance of the running tide in standby (or --exit: back in service)',
  usage: 'GROUP INSTANCE [--no-decrement] [--exit] [--api URL] [--token-file PATH] [--json]',
  description:
    "In standby an instance gets no new requests (its requests in flight finish first), keeps running, and is neither counted as capacity nor chosen for scale-in. By default the group's desired count drops by one, so nothing replaces it (refused when that would go below min); --no-decrement keeps the count, so a replacement is launched (AWS's ShouldDecrementDesiredCapacity). --exit brings it back: health-checked, then routed, and the desired count rises by one up to max. Kept across restarts. Needs the API token ($TIDE_API_TOKEN, else --token-file).",
  examples: [
    { command: 'tide standby shop-web shop-web-3a803cc8', does: 'take the instance out of service to look at it; desired one less' },
    { command: 'tide standby shop-web shop-web-3a803cc8 --no-decrement', does: 'the same, and launch a replacement' },
    { command: 'tide standby shop-web shop-web-3a803cc8 --exit', does: 'put it back in service' },
  ],
  flags: {
    ...apiClientFlags,
    'no-decrement': { kind: 'boolean', description: 'keep the desired count, so a replacement is launched' },
    exit: { kind: 'boolean', description: 'bring the instance back in service instead' },
    json: { kind: 'boolean', description: "print the API's answer as JSON" },
  },
  positionals: { names: ['GROUP', 'INSTANCE'], min: 2, kind: 'string' },
  async run(args, io) {
    const [group = '', instance = ''] = args.positionals
    const exit = args.boolean('exit')
    if (exit && args.boolean('no-decrement')) throw new UsageError('tide standby', '--no-decrement is for entering standby; --exit always raises the desired count by one (up to max)')
    const baseUrl = apiUrlOf(args, 'tide standby')
    const path = `/groups/${seg(group)}/instances/${seg(instance)}/${exit ? 'in-service' : 'standby'}`
    const r = await apiRequest({ baseUrl, method: 'POST', path, token: apiTokenOf(args, io.env), io, ...(exit ? {} : { body: { decrementDesired: !args.boolean('no-decrement') } }) })
    if (!r.ok) return r.exitCode
    const body = r.body as { group: string; message: string }
    io.stdout.write(args.boolean('json') ? `${JSON.stringify(body, null, 2)}\n` : `${body.group}: ${body.message}\n`)
    return 0
  },
}
