/**
 * What of a config may hold secrets and how it is shown where it must not be read: the values of
 * `launch.env` (database passwords, API keys the instances need) are replaced by REDACTED, the
 * names kept, wherever a spec is printed or served (`tide validate --json`, the API's group
 * detail without the token). docs/security.md lists what is secret and where it may go.
 */
import { redactPostgresUrl } from '../core/postgres-url.ts'
import type { GroupSpec, TideConfig } from './schema.ts'

/** The text that stands for a redacted `launch.env` value. */
export const REDACTED = '(redacted)'

/** The spec with every `launch.env` value replaced by REDACTED (names kept); the spec itself when it has none. */
export function redactLaunchEnv(spec: GroupSpec): GroupSpec {
  if (spec.launch === undefined || Object.keys(spec.launch.env).length === 0) return spec
  return { ...spec, launch: { ...spec.launch, env: Object.fromEntries(Object.keys(spec.launch.env).map((k) => [k, REDACTED])) } }
}

/** The config with every group's `launch.env` values redacted (redactLaunchEnv), and the password of `store.url`. */
export function redactConfig(config: TideConfig): TideConfig {
  const store = config.global.store
  const global = store.url === undefined ? config.global : { ...config.global, store: { ...store, url: redactPostgresUrl(store.url) } }
  return { ...config, global, groups: config.groups.map(redactLaunchEnv) }
}
