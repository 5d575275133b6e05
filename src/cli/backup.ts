/**
 * `tide backup FILE`: a consistent copy of the store while tide runs, through SQLite's
 * online backup (src/store/backup.ts). The store is found as every command finds it:
 * `--store PATH`, else `global.store.path` of the `-c` tide.yaml, else ./tide.db.
 */
import { resolve } from 'node:path'
import { backupStoreFile } from '../store/backup.ts'
import { UsageError, type Command } from './args.ts'
import { storeFlags, storePathOf } from './store-flags.ts'

/** The `backup` command. */
export const command: Command = {
  summary: 'copy the store to FILE, consistently, while tide runs',
  usage: 'FILE [--store PATH | -c tide.yaml]',
  description:
    'Uses SQLite online backup, so the copy is one consistent snapshot even while tide writes. FILE is replaced atomically; the copy is a single self-contained file that `tide restore` accepts.',
  examples: [
    { command: 'tide backup /backups/tide-$(date +%F).db -c tide.yaml', does: 'a consistent copy of the config\'s store, while tide runs' },
    { command: 'tide backup copy.db --store /var/lib/tide/tide.db', does: 'the same, naming the store file' },
  ],
  flags: storeFlags,
  positionals: { names: ['FILE'], min: 1, kind: 'string' },
  async run(args, io) {
    const dest = resolve(args.positionals[0] ?? '')
    const store = await storePathOf(args, 'tide backup')
    if (dest === store) throw new UsageError('tide backup', `FILE is the store itself (${store}); name another file`)
    const result = await backupStoreFile(store, dest)
    io.stdout.write(`backed up ${store} to ${result.path} (${result.pages} pages, schema version ${result.schemaVersion})\n`)
    return 0
  },
}
