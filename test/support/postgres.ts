/**
 * A throwaway PostgreSQL cluster for tests: `initdb` (as the postgres user when the tests run as
 * root: the server refuses to run as root) with `--no-sync -A trust` into a fresh temporary
 * folder, started with `pg_ctl -w` listening on 127.0.0.1 and a free port, its socket in that
 * folder, fsync off. It starts in about a second. Each test takes its own database
 * (`createDatabase`), so tests of one file share the cluster but not the tables. `stop()` stops
 * the server (immediate mode) and removes the folder. Every step is bounded in time.
 *
 * Tests using it skip with missingBinary('postgres') when PostgreSQL is absent.
 */
import { execFile } from 'node:child_process'
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { findFreePort } from '../../src/core/free-port.ts'
import { binaryPath } from './system-binaries.ts'

const run = promisify(execFile)

/** A running throwaway cluster. */
export interface TestPostgres {
  /** The port the server listens on at 127.0.0.1. */
  readonly port: number
  /** The URL of the cluster's `postgres` database, as the `postgres` superuser (trust: no password). */
  readonly url: string
  /** Creates a fresh, empty database and returns its URL (`postgres://postgres@127.0.0.1:PORT/NAME`). */
  createDatabase(): Promise<string>
  /** Runs one SQL statement on the database of `url` (a new connection, closed after) and returns its rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(url: string, sql: string, params?: unknown[]): Promise<R[]>
  /**
   * The statements the server ran for connections of `applicationName` since the cluster
   * started (needs `logStatements`): one per round trip of the simple or extended protocol.
   */
  statements(applicationName: string): string[]
  /** Stops the server (immediate) and removes its folder. Idempotent. */
  stop(): Promise<void>
}

let databases = 0

/**
 * Starts a cluster; rejects (after stopping what it started) when `initdb` or the start fails or
 * takes more than 60 s. The caller skips first with missingBinary('postgres').
 */
export async function startPostgres(options: { readonly logStatements?: boolean } = {}): Promise<TestPostgres> {
  const postgres = binaryPath('postgres')
  if (postgres === undefined) throw new Error('postgres is not installed (apt-get install postgresql)')
  const bin = dirname(postgres)
  const root = mkdtempSync(join(tmpdir(), 'tide-pg-'))
  chmodSync(root, 0o755)
  const data = join(root, 'data')
  const asRoot = process.getuid?.() === 0
  if (asRoot) chownSync(root, uidOf('postgres'), gidOf('postgres'))
  const as = (argv: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', ...argv]] : [argv[0] as string, argv.slice(1)])
  const exec = async (argv: string[], timeoutMs: number): Promise<void> => {
    const [file, args] = as(argv)
    await run(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', cwd: root })
  }
  const port = await findFreePort('127.0.0.1')
  let started = false
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    if (started) await exec([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop'], 30_000).catch(() => undefined)
    rmSync(root, { recursive: true, force: true })
  }
  try {
    await exec([join(bin, 'initdb'), '--no-sync', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '-D', data], 60_000)
    started = true
    const logging = options.logStatements === true ? " -c log_statement=all -c log_line_prefix='%a|'" : ''
    await exec(
      [join(bin, 'pg_ctl'), '-D', data, '-w', '-t', '30', '-l', join(root, 'log'), '-o', `-k ${root} -c listen_addresses=127.0.0.1 -p ${port} -c fsync=off -c max_connections=200${logging}`, 'start'],
      40_000,
    )
  } catch (err) {
    await stop()
    throw err
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const query = async <R extends Record<string, unknown>>(on: string, sql: string, params: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: on, connectionTimeoutMillis: 10_000, query_timeout: 30_000 })
    client.on('error', () => undefined)
    await client.connect()
    try {
      return (await client.query<R>(sql, params)).rows
    } finally {
      await client.end()
    }
  }
  return {
    port,
    url,
    async createDatabase() {
      const name = `tide_test_${process.pid}_${++databases}`
      await query(url, `CREATE DATABASE ${name}`)
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    query,
    statements(applicationName) {
      // "%a|LOG:  statement: …" (simple protocol) or "%a|LOG:  execute <unnamed>: …" (extended).
      return readFileSync(join(root, 'log'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(`${applicationName}|LOG:  `) && /^[^|]*\|LOG: {2}(statement|execute [^:]*):/.test(l))
    },
    stop,
  }
}

function uidOf(user: string): number {
  return idOf(user, 2)
}

function gidOf(user: string): number {
  return idOf(user, 3)
}

/** A field of the user's /etc/passwd line (2: uid, 3: gid). */
function idOf(user: string, field: number): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))
  const id = Number(line?.split(':')[field])
  if (!Number.isInteger(id)) throw new Error(`no user ${user} in /etc/passwd (apt-get install postgresql creates it)`)
  return id
}

