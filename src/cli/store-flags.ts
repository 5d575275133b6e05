/**
 * How a command finds the store: `--store PATH`, else `global.store.path` of the `-c` tide.yaml,
 * else ./tide.db (`tide status`, `tide backup`, `tide restore`). Light on purpose: the config
 * loader is imported only when `-c` is given, so a command's `--help` and a `--store` read start
 * fast (bench: startup).
 */
import { resolve } from 'node:path'
import type { FlagSpec, ParsedArgs } from './args.ts'

/** The flags that locate the store. */
export const storeFlags: Readonly<Record<string, FlagSpec>> = {
  store: { kind: 'string', description: 'the store file', valueName: 'PATH', defaultText: 'global.store.path of -c, else tide.db' },
  config: { kind: 'file', short: 'c', description: 'tide.yaml whose global.store.path names the store' },
}

/** The store's path from --store, -c tide.yaml or the default, resolved against the working directory. */
export async function storePathOf(args: ParsedArgs): Promise<string> {
  const explicit = args.string('store')
  if (explicit !== undefined) return resolve(explicit)
  const config = args.string('config')
  if (config !== undefined) {
    const { loadConfig } = await import('../spec/load.ts')
    return resolve(loadConfig(config).global.store.path)
  }
  return resolve('tide.db')
}
