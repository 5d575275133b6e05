/**
 * The environment of a backup command (lifecycle.backup): what it inherits of tide's own, and
 * nothing else (docs/security.md). Shared by the drain of local instances (local-drainer.ts),
 * the exactly-once runner (backup-once.ts) and the aws backend.
 */

/**
 * The variables of tide's own environment a backup command inherits (docs/security.md): what a
 * program needs to run and to read text and times as the operator does, nothing else. tide's
 * environment holds its secrets (the API token, cloud credentials); a hook is the operator's
 * program but runs on tide's behalf, so it gets only what it is documented to get.
 */
export const BACKUP_INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'TZ'] as const

/**
 * The whole environment of a backup command: BACKUP_INHERITED_ENV taken from `parent` (tide's
 * environment) where set, then `env` (the group's launch.env and the TIDE_* variables), which
 * wins. Nothing else of `parent` gets through.
 */
export function backupEnvironment(parent: Readonly<Record<string, string | undefined>>, env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of BACKUP_INHERITED_ENV) {
    const value = parent[name]
    if (value !== undefined) out[name] = value
  }
  return { ...out, ...env }
}
