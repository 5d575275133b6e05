/**
 * What the commands that talk to a running tide's REST API share (`tide get`, `tide pause`,
 * `tide resume`, `tide protect`, `tide unprotect`, `tide scale`, `tide standby`, `tide token
 * rotate`; docs/api.md): the `--api` and `--token-file`
 * flags, the token (never printed), one bounded HTTP request, and the exit statuses:
 * - 0: the API answered 2xx;
 * - 1: the API answered an error: its code and message are printed;
 * - 2: usage error (args.ts);
 * - 3: no tide answered at the URL within the timeout: the URL and how to start one are printed.
 */
import { existsSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { UsageError, type CommandIo, type FlagSpec, type ParsedArgs } from './args.ts'

/** The API's URL when `--api` is not given: `tide up`'s default api.listen on loopback. */
export const DEFAULT_API_URL = 'http://127.0.0.1:7070'

/** The environment variable the token is read from first (api.tokenEnv's default). */
export const TOKEN_ENV = 'TIDE_API_TOKEN'

/** The token file when `--token-file` is not given: where `tide up` keeps it with its default `--state-dir .tide`. */
export const DEFAULT_TOKEN_FILE = '.tide/api-token'

/** How long one request may take, connect to last byte, ms. */
export const API_TIMEOUT_MS = 5000

/** Exit status when no tide answered at the URL. */
export const EXIT_UNREACHABLE = 3

/** The flags every API command takes. */
export const apiClientFlags: Readonly<Record<'api' | 'token-file', FlagSpec>> = {
  api: { kind: 'string', description: "the running tide's API URL", valueName: 'URL', defaultText: DEFAULT_API_URL },
  'token-file': { kind: 'file', description: `the API token's file, when $${TOKEN_ENV} is not set`, valueName: 'PATH', defaultText: DEFAULT_TOKEN_FILE },
}

/** The API's base URL from `--api` (no trailing slash); a UsageError for anything not http(s). */
export function apiUrlOf(args: ParsedArgs, commandPath: string): string {
  const text = args.string('api') ?? DEFAULT_API_URL
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(commandPath, `--api: '${text}' is not a URL (e.g. ${DEFAULT_API_URL})`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(commandPath, `--api: '${text}' is not an http:// or https:// URL`)
  return url.href.replace(/\/+$/, '')
}

/**
 * The API token: `$TIDE_API_TOKEN` when set and not empty, else the first line of `--token-file`
 * (which args.ts has checked exists), else of `.tide/api-token` when that exists, else undefined
 * (reads from loopback need none; a change will be refused with the API's 401).
 */
export function apiTokenOf(args: ParsedArgs, env: CommandIo['env']): string | undefined {
  const fromEnv = env[TOKEN_ENV]?.trim()
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const path = args.string('token-file') ?? (existsSync(DEFAULT_TOKEN_FILE) ? DEFAULT_TOKEN_FILE : undefined)
  if (path === undefined) return undefined
  const token = readFileSync(path, 'utf8').trim()
  return token === '' ? undefined : token
}

/** The outcome of one API request: the JSON of a 2xx answer, or the exit status after the error was printed. */
export type ApiResult = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly exitCode: number }

/** Why a request got no answer, in a few words: a timeout, or the socket's error code (ECONNREFUSED). */
function unreachableWhy(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string }
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
}

/**
 * One HTTP exchange over node:http (or https): the status and the body as text. node:http, not
 * the global fetch: fetch loads Node's bundled undici on first use, tens of ms a command would
 * spend before its first byte (the start-up goal of `tide status` is 0.15 s, docs/bench.md).
 * Rejects with the socket's error (its `code`), or an error named TimeoutError after `timeoutMs`
 * for the whole exchange. `newConnection` opens a socket of its own (no kept-alive one reused).
 */
export function exchange(url: string, opts: { readonly method: string; readonly headers: Record<string, string>; readonly body?: string; readonly timeoutMs: number; readonly newConnection?: boolean }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest
    const req = send(url, { method: opts.method, ...(opts.newConnection === true ? { agent: false } : {}), headers: { ...opts.headers, ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${opts.timeoutMs} ms`)
      err.name = 'TimeoutError'
      req.destroy(err)
    }, opts.timeoutMs)
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    req.end(opts.body)
  })
}

/**
 * Sends one request to the API at `baseUrl` (`path` starts with `/`) with the token when there
 * is one and `body` as JSON when given, bounded by `timeoutMs` (API_TIMEOUT_MS by default). An error answer prints `tide: CODE: message` to stderr
 * (exit 1; for a 401 it also says where the token is read from); no answer prints the URL, why,
 * and how to start a tide (exit 3). Never prints the token.
 */
export async function apiRequest(opts: {
  readonly baseUrl: string
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly path: string
  readonly token: string | undefined
  readonly io: CommandIo
  /** Sent as JSON when given. */
  readonly body?: unknown
  /** The bound on this request, ms; API_TIMEOUT_MS when absent (a replay takes longer). */
  readonly timeoutMs?: number
}): Promise<ApiResult> {
  const { baseUrl, io } = opts
  const url = `${baseUrl}${opts.path}`
  const timeoutMs = opts.timeoutMs ?? API_TIMEOUT_MS
  let res: { status: number; ok: boolean }
  let text: string
  try {
    const answer = await exchange(url, {
      method: opts.method,
      headers: { accept: 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }) },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      timeoutMs,
    })
    res = { status: answer.status, ok: answer.status >= 200 && answer.status < 300 }
    text = answer.text
  } catch (err) {
    io.stderr.write(`tide: no tide answered at ${baseUrl} (${unreachableWhy(err, timeoutMs)}); start one with 'tide up -c tide.yaml', or name its API with --api URL\n`)
    return { ok: false, exitCode: EXIT_UNREACHABLE }
  }
  let body: unknown
  try {
    body = JSON.parse(text) as unknown
  } catch {
    io.stderr.write(`tide: ${url} answered ${res.status} with a body that is not JSON: is it a tide API?\n`)
    return { ok: false, exitCode: 1 }
  }
  if (res.ok) return { ok: true, body }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    io.stderr.write(`tide: ${url} answered HTTP ${res.status} (${text.slice(0, 200)}), not as a tide API does: is --api the URL of tide up's 'API:' line?\n`)
    return { ok: false, exitCode: 1 }
  }
  const { code, message } = error as { code: string; message: string }
  const hint = res.status === 401 ? ` (the token is read from $${TOKEN_ENV}, else --token-file PATH, default ${DEFAULT_TOKEN_FILE})` : ''
  io.stderr.write(`tide: ${code}: ${message}${hint}\n`)
  return { ok: false, exitCode: 1 }
}

/** Rows as aligned columns: the header first, two spaces between columns, no trailing spaces. */
export function tableText(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return `${all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n')}\n`
}

/** Makes a path segment safe in a URL (a group name or instance id as the user typed it). */
export function seg(text: string): string {
  return encodeURIComponent(text)
}
