/**
 * The backup pool of a group (routing.backup): the targets that get traffic only while no
 * primary instance is routable, and the rule that says when. Pure: the routing section in,
 * the targets out; the primary's table in, the verdict out. Both proxy cores (tide's and
 * HAProxy's) and the router's primary read them from here, so they agree on ids and paths.
 */
import type { RoutingSpec } from '../spec/schema.ts'

/** The id prefix of backup targets in the routing table and the stats: `backup:1`, `backup:2`, … */
export const BACKUP_ID_PREFIX = 'backup:'

/** One backup target as the router forwards to it. */
export interface BackupTarget {
  /** `backup:N`, N from 1 in configured order. Never an instance id: instance ids have no colon. */
  readonly id: string
  readonly host: string
  readonly port: number
  /**
   * Prepended to every request path sent to it, without a trailing slash: `/fallback` for
   * `url: http://host:port/fallback`, so `/cart?id=1` goes out as `/fallback/cart?id=1`.
   * Empty for `instances` and for a url without a path.
   */
  readonly pathPrefix: string
  /** How the operator wrote it: `host:port` for an instance, the url for an upstream. */
  readonly label: string
}

/** The backup targets of a routing section, in configured order; none when routing.backup is absent. */
export function backupTargets(routing: RoutingSpec): BackupTarget[] {
  const backup = routing.backup
  if (backup === undefined) return []
  if (backup.url !== undefined) {
    // The schema accepted it (isBackupUrl): it parses, and it is plain http.
    const u = new URL(backup.url)
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
    const pathPrefix = u.pathname.replace(/\/+$/, '')
    return [{ id: `${BACKUP_ID_PREFIX}1`, host, port: u.port === '' ? 80 : Number(u.port), pathPrefix, label: backup.url }]
  }
  return (backup.instances ?? []).map((t, i) => ({
    id: `${BACKUP_ID_PREFIX}${i + 1}`,
    host: t.host,
    port: t.port,
    pathPrefix: '',
    label: t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`,
  }))
}

/** Whether a routing-table id names a backup target rather than an instance. */
export function isBackupId(id: string): boolean {
  return id.startsWith(BACKUP_ID_PREFIX)
}

/**
 * The request target sent to a backup: the prefix before an origin-form target (`/…`); any
 * other form (`*` of `OPTIONS *`) is sent unchanged.
 */
export function backupPath(pathPrefix: string, target: string): string {
  return pathPrefix !== '' && target.startsWith('/') ? `${pathPrefix}${target}` : target
}
