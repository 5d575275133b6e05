/**
 * The REST API of a running tide, as `tide up` and `tide demo` serve it: the `--api-listen` and
 * `--no-api` flags, the token (token.ts), the application service, the app and its server, and
 * the start-up lines that say where the API and the dashboard are and where the token is (never it).
 */
import { dirname, resolve } from 'node:path'
import { createApiApp } from '../api/app.ts'
import { startApiServer, type ApiServer } from '../api/server.ts'
import { resolveApiToken, type TokenSource } from '../api/token.ts'
import { TideService } from '../app/tide-service.ts'
import type { Runtime } from '../runtime/runtime.ts'
import type { LeadershipStatus } from '../app/standby-read-model.ts'
import type { GlobalSpec } from '../spec/schema.ts'
import { UsageError, type CommandIo, type FlagSpec, type ParsedArgs } from './args.ts'

export type { ApiServer }

/** The flags of a command that serves the API. */
export const apiFlags: Readonly<Record<'api-listen' | 'no-api', FlagSpec>> = {
  'api-listen': { kind: 'non-negative-number', max: 65_535, description: "the API's port (0: any free port), instead of api.listen", valueName: 'PORT', defaultText: 'api.listen, 7070' },
  'no-api': { kind: 'boolean', description: 'serve no API' },
}

/** What the API flags ask for: no API, or the port (undefined: api.listen). */
export type ApiChoice = { readonly serve: false } | { readonly serve: true; readonly port?: number }

/** The API flags of `args`, checked: a port is a whole number 0–65535, and --no-api takes no port. */
export function apiOptionsOf(args: ParsedArgs, commandPath: string): ApiChoice {
  const port = args.number('api-listen')
  const off = args.boolean('no-api')
  if (off && port !== undefined) throw new UsageError(commandPath, '--api-listen and --no-api contradict each other: give one')
  if (off) return { serve: false }
  if (port === undefined) return { serve: true }
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(commandPath, `--api-listen: a port is a whole number from 0 to 65535, got ${port}`)
  return { serve: true, port }
}

/** Where the API token is, in words, for the start-up line: never the token itself. */
export function tokenSourceText(source: TokenSource): string {
  if (source.kind === 'env') return `token from $${source.name}`
  return `token in ${source.path}${source.created ? ' (new, mode 0600)' : ''}`
}

/** The start-up line that says where the dashboard is (docs/dashboard.md): the API's URL with /ui/. */
export function dashboardLine(apiUrl: string): string {
  return `dashboard: ${apiUrl.replace(/\/+$/, '')}/ui/`
}

/** Who may read without the token, in words, for the start-up line (api.openReads). */
export function readsText(openReads: boolean): string {
  return openReads ? 'reads are open from anywhere (api.openReads)' : 'reads are open from loopback'
}

/**
 * Serves the API of `runtime` as `choice` says, on api.host (the port from the flag, else
 * api.listen), and prints its URL and where its token is. Resolves undefined when the API is
 * off, and the dashboard's URL under it. `configPath` is the file whose folder relative paths of applied groups resolve against
 * (the working folder when there is none). Rejects with ApiError TIDE_ERR_API_LISTEN when the
 * port cannot be taken, FileError when the token file cannot be made.
 */
export async function startApi(opts: {
  readonly runtime: Runtime
  readonly global: GlobalSpec
  readonly choice: ApiChoice
  readonly stateDir: string
  readonly configPath?: string
  readonly io: CommandIo
  /** Who leads, for GET /status (an elected tide); absent: role single. */
  readonly leadership?: () => LeadershipStatus
}): Promise<ApiServer | undefined> {
  const { choice, global, io } = opts
  if (!choice.serve) return undefined
  const token = resolveApiToken({ env: io.env, tokenEnv: global.api.tokenEnv, stateDir: opts.stateDir })
  const baseDir = opts.configPath === undefined ? process.cwd() : dirname(resolve(opts.configPath))
  const app = createApiApp({
    service: new TideService(opts.runtime, { baseDir }),
    token: token.token,
    tokenSource: token.source,
    openReads: global.api.openReads,
    ...(opts.leadership === undefined ? {} : { leadership: opts.leadership }),
  })
  let server: ApiServer
  try {
    server = await startApiServer(app, { host: global.api.host, port: choice.port ?? global.api.listen })
  } catch (err) {
    app.close()
    throw err
  }
  io.stdout.write(`API: ${server.url} (${tokenSourceText(token.source)}; changes need it, ${readsText(global.api.openReads)})\n`)
  io.stdout.write(`${dashboardLine(server.url)}\n`)
  return server
}
