/**
 * What every external source's configuration shares: the URL rule (http or https, a host, no
 * credentials in it) and the per-request timeout. Each source's own file (prometheus.ts,
 * http-json.ts) builds its schema from these, as KEDA's scalers share their metadata helpers.
 */
import { z } from 'zod'

/**
 * A source's URL: http or https with a host. Credentials in a URL (user:password@) are refused:
 * they would be written to logs and `tide validate`'s output.
 */
export const sourceUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:9090' })
  .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), { message: 'must not carry a user or password (user:password@host)' })

/** Seconds one request to the source may take, default 5, at most 60; a slower answer is a failure. */
export const sourceTimeoutSeconds = z.number().positive().max(60).default(5)

/**
 * The most bytes of an answer a source reads (1 MiB): a larger answer is a failure, so a
 * misdirected URL (a log file, a big page) cannot fill tide's memory. Not configurable.
 */
export const SOURCE_MAX_BYTES = 1024 * 1024
