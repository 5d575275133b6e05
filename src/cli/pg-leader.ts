/**
 * `tide up` with a PostgreSQL store (`store.url`) and no `--leader-lease`: several tide processes
 * share the store, and one leads, elected through the store's `tide_lease` row with a fencing
 * epoch (src/store/postgres/lease.ts; docs/ha.md). Until this process leads it is a standby:
 * it starts no router, launches nothing, and serves the read-only API from the store
 * (src/api/standby-app.ts), answering every change 503 TIDE_ERR_API_NOT_LEADER naming the
 * leader. Once it takes the lease, the standby API closes and `tide up` starts as usual, with
 * every store flush and every provider action fenced on the lease; losing it is a value `tide
 * up` waits on beside the signals (then it stops at once, leaving instances to the new leader,
 * and exits 1). In a cluster the Kubernetes Lease (`--leader-lease`, leader.ts) stays the
 * election. `--no-election` runs one tide on the store without electing (nothing fenced).
 */
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { createStandbyApiApp } from '../api/standby-app.ts'
import { startApiServer, type ApiServer } from '../api/server.ts'
import { resolveApiToken } from '../api/token.ts'
import { StandbyReadModel, type LeadershipStatus } from '../app/standby-read-model.ts'
import { scrubPassword } from '../core/postgres-url.ts'
import type { TideConfig } from '../spec/schema.ts'
import { PostgresStore } from '../store/postgres/postgres-store.ts'
import { openPgLease, type OpenPgLeaseOptions, type PgLease } from '../store/postgres/lease.ts'
import type { CommandIo, FlagSpec } from './args.ts'
import type { Leadership } from './leader.ts'
import type { ApiChoice } from './serve-api.ts'

/** The flag, for `tide up`'s table. */
export const pgLeaderFlags: Readonly<Record<string, FlagSpec>> = {
  'no-election': { kind: 'boolean', description: 'with a PostgreSQL store (store.url): act at once without electing a leader; only when no other tide runs on the store' },
}

/** A lease held through PostgreSQL: what leader.ts's Leadership offers, the lease itself (to fence with), and who leads for GET /status. */
export interface PgLeadership extends Leadership {
  readonly lease: PgLease
  status(): LeadershipStatus
}

/** What waitForPgLeadership needs. */
export interface PgElectionOptions {
  /** The store's URL (global.store.url). */
  readonly url: string
  readonly config: TideConfig
  readonly io: CommandIo
  /** Resolves with the signal's name on SIGINT or SIGTERM (up.ts untilSignal). */
  readonly signal: Promise<string>
  /** Where the standby serves its API (the flags of tide up). */
  readonly apiChoice: ApiChoice
  readonly stateDir: string
  /** Lease timings (tests); LEASE_DEFAULTS otherwise. */
  readonly timings?: Pick<OpenPgLeaseOptions, 'durationMs' | 'renewEveryMs' | 'renewDeadlineMs' | 'retryEveryMs'>
}

/** This process's identity in the election: the pod's name, else the host and the pid. */
export function candidateIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAME ?? `${env.HOSTNAME ?? hostname()}-${String(process.pid)}`
}

/**
 * Waits until this process holds the store's lease, serving the standby API meanwhile; resolves
 * with the leadership, or undefined when `signal` came first (nothing was started but the
 * standby API, which is closed again). Rejects when the store cannot be opened.
 */
export async function waitForPgLeadership(o: PgElectionOptions): Promise<PgLeadership | undefined> {
  const { io, url } = o
  const identity = candidateIdentity(io.env)
  let lastError = ''
  const say = (line: string): void => {
    io.stdout.write(`${line}\n`)
  }
  const opened = openPgLease(url, {
    identity,
    ...o.timings,
    onError: (err) => {
      // Said once per distinct failure: an unreachable database would otherwise print every second.
      const message = scrubPassword(err instanceof Error ? err.message : String(err), url)
      if (message === lastError) return
      lastError = message
      say(`leader election: ${message}`)
    },
  })
  const lease = opened.lease
  const status = (): LeadershipStatus => {
    const leading = lease.held()
    const leader = leading ? identity : lease.holder
    const epoch = lease.epoch
    return { role: leading ? 'leader' : 'standby', identity, ...(leader === undefined ? {} : { leader }), ...(epoch === undefined ? {} : { epoch }), lease: lease.name }
  }
  // Opening the store migrates it (tide_lease is migration 1) and gives the standby its reads.
  const reader = await PostgresStore.open(url, { poolSize: 2, log: (line) => io.stderr.write(`tide: ${line}\n`) }).catch(async (err: unknown) => {
    await opened.close()
    throw err
  })
  say(`leader election: lease '${lease.name}' in ${reader.location} as ${identity}`)
  let standby: ApiServer | undefined
  const ac = new AbortController()
  const signalled = o.signal.then((sig) => {
    ac.abort()
    return sig
  })
  try {
    if ((await lease.tryAcquire()) === undefined) {
      say(`standby: the lease is held by ${lease.holder ?? 'nobody (expiring)'}; serving reads, waiting to lead`)
      standby = await startStandbyApi(o, new StandbyReadModel({ reads: reader, groups: o.config.groups, leadership: status }))
      await lease.acquire(ac.signal, (holder) => {
        say(`standby: the lease is held by ${holder}`)
      })
    }
  } catch (err) {
    await standby?.close()
    await reader.close()
    await opened.close()
    if (ac.signal.aborted) {
      say(`\n${await signalled}: stopped while waiting for the lease`)
      return undefined
    }
    throw err
  }
  await standby?.close()
  await reader.close()
  const fence = lease.fence()
  say(`leading: lease '${lease.name}' at epoch ${String(fence?.epoch)} as ${identity}${lease.takenFrom === undefined ? '' : ` (taken over from ${lease.takenFrom})`}`)
  const lost = new Promise<string>((resolve) => {
    lease.onLost((why) => {
      resolve(`lost leadership (lease '${lease.name}', epoch ${String(fence?.epoch)}): ${why}`)
    })
  })
  return {
    lost,
    lease,
    status,
    release: async () => {
      await lease.release()
      await opened.close()
    },
  }
}

/** The standby's API on the address the full API would take; undefined with --no-api. */
async function startStandbyApi(o: PgElectionOptions, model: StandbyReadModel): Promise<ApiServer | undefined> {
  if (!o.apiChoice.serve) return undefined
  const api = o.config.global.api
  // The token file lives in the state directory, which Runtime.start would make later.
  mkdirSync(o.stateDir, { recursive: true })
  const token = resolveApiToken({ env: o.io.env, tokenEnv: api.tokenEnv, stateDir: o.stateDir })
  const app = createStandbyApiApp({ model, token: token.token, openReads: api.openReads })
  const server = await startApiServer(app, { host: api.host, port: o.apiChoice.port ?? api.listen })
  o.io.stdout.write(`standby API: ${server.url} (reads from the store; changes answer 503 naming the leader)\n`)
  return server
}
