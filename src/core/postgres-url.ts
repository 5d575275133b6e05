/**
 * PostgreSQL URLs as tide may show them. A `store.url` may carry a password (user-info, or a
 * `password=` query parameter); it never reaches a log line, an event, an API answer or
 * `tide validate --json`: everything that prints a store URL prints `redactPostgresUrl(url)`.
 */

/** Whether `s` is a PostgreSQL URL (`postgres://` or `postgresql://`), which selects the PostgreSQL store. */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s)
}

/**
 * The URL with its password replaced by `***` (user-info and `password=` parameters); the user,
 * host, port, database and other parameters are kept. A URL that does not parse is shown as
 * `postgres://<unparsable url>` (it might hold a password anywhere).
 */
export function redactPostgresUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return 'postgres://<unparsable url>'
  }
  if (u.password !== '') u.password = '***'
  for (const key of [...u.searchParams.keys()]) if (key.toLowerCase() === 'password') u.searchParams.set(key, '***')
  return u.toString()
}

/**
 * `text` with every occurrence of the URL's password (raw and percent-decoded) replaced by `***`:
 * for error messages of the driver, which might quote what they were given.
 */
export function scrubPassword(text: string, url: string): string {
  let secrets: string[] = []
  try {
    const u = new URL(url)
    secrets = [u.password, ...[...u.searchParams].filter(([k]) => k.toLowerCase() === 'password').map(([, v]) => v)]
      .flatMap((p) => {
        let decoded = p
        try {
          decoded = decodeURIComponent(p)
        } catch {
          // a malformed escape: the raw form is enough
        }
        return [p, decoded]
      })
      .filter((p) => p.length > 0)
  } catch {
    return text.includes(url) ? text.split(url).join('postgres://<unparsable url>') : text
  }
  let out = text.split(url).join(redactPostgresUrl(url))
  for (const s of secrets) out = out.split(s).join('***')
  return out
}
