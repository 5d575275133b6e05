/**
 * How a command finds the store: `--store PATH|URL`, else `global.store.url` or `global.store.path`
 * of the `-c` tide.yaml, else ./tide.db (`tide status`, `tide backup`, `tide restore`). Light on
 * purpose: the config loader is imported only when `-c` is given, so a command's `--help` and a
 * `--store` read start fast (bench: startup).
 */
import { resolve } from 'node:path'
import { isPostgresUrl, redactPostgresUrl } from '../core/postgres-url.ts'
import { StoreError } from '../store/errors.ts'
import type { FlagSpec, ParsedArgs } from './args.ts'

/** The flags that locate the store. */
export const storeFlags: Readonly<Record<string, FlagSpec>> = {
  store: { kind: 'string', description: 'the store file, or a PostgreSQL URL (postgres://…; a password is better in PGPASSWORD)', valueName: 'PATH|URL', defaultText: 'global.store of -c, else tide.db' },
  config: { kind: 'file', short: 'c', description: 'tide.yaml whose global.store (url, else path) names the store' },
}

/** Where a store is: a SQLite file (resolved path) or a PostgreSQL database (its URL, password and all: print `redactPostgresUrl(url)`). */
export type StoreLocation = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string }

/** The store from --store (a path or a postgres:// URL), -c tide.yaml (store.url over store.path) or the default ./tide.db. */
export async function storeOf(args: ParsedArgs): Promise<StoreLocation> {
  const explicit = args.string('store')
  if (explicit !== undefined) return isPostgresUrl(explicit) ? { kind: 'postgres', url: explicit } : { kind: 'sqlite', path: resolve(explicit) }
  const config = args.string('config')
  if (config !== undefined) {
    const { loadConfig } = await import('../spec/load.ts')
    const store = loadConfig(config).global.store
    return store.url !== undefined ? { kind: 'postgres', url: store.url } : { kind: 'sqlite', path: resolve(store.path) }
  }
  return { kind: 'sqlite', path: resolve('tide.db') }
}

/**
 * The store file's path, for the commands that work on a SQLite file only (`tide backup`,
 * `tide restore`): a PostgreSQL store is refused with TIDE_ERR_STORE_UNSUPPORTED naming
 * pg_dump and pg_restore, which back up a database properly (tide does not half-do it).
 */
export async function storePathOf(args: ParsedArgs, command: string): Promise<string> {
  const store = await storeOf(args)
  if (store.kind === 'sqlite') return store.path
  const where = redactPostgresUrl(store.url)
  throw new StoreError(
    'TIDE_ERR_STORE_UNSUPPORTED',
    where,
    `${command} works on a SQLite store file; ${where} is a PostgreSQL store: back it up with pg_dump (pg_dump -Fc -d URL -f tide.dump) and restore it with pg_restore (stop every tide using it first)`,
  )
}
