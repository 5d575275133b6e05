/**
 * `tide restore FILE`: replaces the store with a backup made by `tide backup`. The
 * backup is validated first (a tide store of a known schema version that passes
 * SQLite's quick check) and the store is replaced atomically; a store a running tide
 * holds is refused unless --force (src/store/restore.ts).
 */
import { resolve } from 'node:path'
import { restoreStore } from '../store/restore.ts'
import { UsageError, type Command } from './args.ts'
import { storeFlags, storePathOf } from './store-flags.ts'

/** The `restore` command. */
export const command: Command = {
  summary: 'replace the store with a backup FILE',
  usage: 'FILE [--store PATH | -c tide.yaml] [--force]',
  description:
    'Refuses a file that is not a tide store, or one from a newer tide, leaving the store untouched. Refuses while a running tide holds the store; with --force it replaces the store anyway, and that tide must be restarted (its later writes go to the replaced file).',
  examples: [
    { command: 'tide restore /backups/tide-2026-11-11.db -c tide.yaml', does: 'put a backup back (with tide stopped)' },
    { command: 'tide restore copy.db --store /var/lib/tide/tide.db --force', does: 'replace it even while a tide holds it; restart that tide' },
  ],
  flags: {
    ...storeFlags,
    force: { kind: 'boolean', description: 'replace the store even while a running tide holds it' },
  },
  positionals: { names: ['FILE'], min: 1, kind: 'file' },
  async run(args, io) {
    const backup = resolve(args.positionals[0] ?? '')
    const store = await storePathOf(args, 'tide restore')
    if (backup === store) throw new UsageError('tide restore', `FILE is the store itself (${store}); name a backup`)
    const result = await restoreStore(backup, store, { force: args.boolean('force') })
    io.stdout.write(`restored ${store} from ${backup} (schema version ${result.fromVersion}${result.toVersion === result.fromVersion ? '' : ` → ${result.toVersion}`})\n`)
    if (result.overriddenHolder !== undefined) {
      io.stderr.write(`tide: warning: tide (pid ${result.overriddenHolder.pid}) was using the store; restart it so that it reads the restored state\n`)
    }
    return 0
  },
}
