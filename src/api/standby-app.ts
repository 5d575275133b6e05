/**
 * The API of a standby `tide up` (docs/ha.md): the read routes of the full API (app.ts), with the
 * same query parameters, checks, auth and rate limits, answered from the shared store through the
 * StandbyReadModel; `GET /status` says `role: standby`, the leader and its epoch. Every other
 * request (every change, and the routes only the leader's live state can answer: the event
 * stream, /metrics, replay and validate) is answered 503 TIDE_ERR_API_NOT_LEADER naming the
 * leader, before auth, so a client learns where to go whatever its token. When this tide takes
 * the lease, `tide up` closes this API and starts the full one on the same address.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { StandbyReadModel } from '../app/standby-read-model.ts'
import { ApiError } from '../app/errors.ts'
import { errorAnswer, eventsQueryOf, GroupParams, metricsQueryOf, parse, socketAddress } from './app.ts'
import { DEFAULT_RATE_LIMITS, FAILED_AUTH_COST, RateLimiter, type RateLimits } from './rate-limit.ts'
import { bearerMatches, isLoopback } from './token.ts'
import type { ApiApp } from './app.ts'

/** Options of the standby API (the full API's, where they apply). */
export interface StandbyApiOptions {
  readonly model: StandbyReadModel
  /** The API token: reads from beyond loopback need it (as the full API), and it reveals launch.env values. */
  readonly token: string
  /** Reads open from any address (api.openReads). */
  readonly openReads?: boolean
  /** The remote address of a request (the socket's when absent). */
  readonly remoteAddress?: (c: Context) => string | undefined
  /** Request budgets per address; DEFAULT_RATE_LIMITS when absent, false for none. */
  readonly rateLimits?: RateLimits | false
  readonly now?: () => number
}

/** The read routes a standby answers; everything else is the leader's. */
const READ_ROUTES = ['/status', '/healthz', '/groups', '/groups/:name', '/events', '/groups/:name/metrics'] as const

/** Builds the standby's API app (see the file's comment). */
export function createStandbyApiApp(opts: StandbyApiOptions): ApiApp {
  const { model } = opts
  const app = new OpenAPIHono()
  const remoteAddress = opts.remoteAddress ?? socketAddress
  const limiter = opts.rateLimits === false ? undefined : new RateLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS, opts.now)
  const authorized = (c: Context): boolean => bearerMatches(c.req.header('authorization'), opts.token)

  app.onError((err, c) => errorAnswer(c, err))
  app.notFound((c) => {
    const read = c.req.method === 'GET' || c.req.method === 'HEAD'
    return errorAnswer(c, model.notLeader(`${c.req.method} ${c.req.path}${read ? ' (served by the leader only)' : ''}`))
  })
  app.use('*', async (ctx, next) => {
    const c = ctx as Context
    const read = c.req.method === 'GET' || c.req.method === 'HEAD'
    const address = remoteAddress(c) ?? '(no address)'
    const wait = limiter?.take(read ? 'reads' : 'changes', address) ?? 0
    if (wait > 0) {
      c.header('Retry-After', String(wait))
      return errorAnswer(c, new ApiError('TIDE_ERR_API_RATE_LIMITED', `too many ${read ? 'reads' : 'changes'} from ${address}: retry in ${wait} s (docs/api.md, "Rate limits")`))
    }
    // A change is the leader's whatever the token: say where to go first.
    if (!read) return errorAnswer(c, model.notLeader(`${c.req.method} ${c.req.path}`))
    if (!authorized(c) && !(opts.openReads === true || isLoopback(remoteAddress(c)))) {
      limiter?.charge('changes', address, FAILED_AUTH_COST)
      throw new ApiError('TIDE_ERR_API_UNAUTHORIZED', `reads from beyond loopback need the API token (Authorization: Bearer …); this request has ${c.req.header('authorization') === undefined ? 'no token' : 'a wrong token'}`)
    }
    await next()
  })

  app.get(READ_ROUTES[0], (c) => c.json(model.status()))
  app.get(READ_ROUTES[1], (c) => c.json({ ok: true, role: model.status().role }))
  app.get(READ_ROUTES[2], async (c) => c.json({ groups: await model.listGroups() }))
  app.get(READ_ROUTES[3], async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    return c.json(await model.getGroup(name, { revealEnv: authorized(c) }))
  })
  app.get(READ_ROUTES[4], async (c) => {
    return c.json(await model.events(eventsQueryOf(c.req.query())))
  })
  app.get(READ_ROUTES[5], async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    return c.json(await model.metrics(name, metricsQueryOf(c.req.query())))
  })
  return { app, close: () => undefined }
}
