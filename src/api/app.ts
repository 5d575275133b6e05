/**
 * tide's REST API as a hono app over the application service (TideService), testable in process
 * with `app.request()`; server.ts makes it listen. Every route is described by a zod schema
 * that both validates what comes in and feeds the OpenAPI document at `/openapi.json` (the
 * group spec is tide.yaml's own GroupSchema). Every error answers `{ error: { code, message } }`
 * with the status of its code in the one error registry (src/errors.ts): one handler maps them
 * all, as hono's HTTPException handler does. docs/api.md documents each route.
 *
 * Auth: every request that changes something (PUT, POST, DELETE) needs `Authorization: Bearer
 * <token>`, compared in constant time (token.ts); reads are open from loopback and need the
 * token from anywhere else, unless `openReads` opens them to every address (api.openReads).
 * `POST /token/rotate` replaces the token in its file and in force at once.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getConnInfo } from '@hono/node-server/conninfo'
import { ApiError } from '../app/errors.ts'
import { DEFAULT_REPLAY_HOURS, MAX_REPLAY_HOURS } from '../app/replay.ts'
import { DEFAULT_HOLD_SECONDS, MAX_HOLD_SECONDS, type EventsQuery, type MetricsQuery, type TideService } from '../app/tide-service.ts'
import type { LeadershipStatus } from '../app/standby-read-model.ts'
import { isoToEpochMsOrThrow } from '../core/iso-time.ts'
import { HISTORY_SERIES } from '../controller/history-series.ts'
import { httpStatusOf, isTideError } from '../errors.ts'
import { ConfigError } from '../spec/errors.ts'
import { GroupSchema } from '../spec/schema.ts'
import { MAX_EVENT_LIMIT } from '../store/event-log.ts'
import { isTideEventType, TIDE_EVENT_TYPES, type TideEventType } from '../store/events.ts'
import { mountDashboard } from './dashboard.ts'
import { eventStream } from './event-stream.ts'
import { tideMetrics } from './prometheus.ts'
import { DEFAULT_RATE_LIMITS, FAILED_AUTH_COST, RateLimiter, type RateLimits } from './rate-limit.ts'
import { bearerMatches, isLoopback, rotateTokenFile, type TokenSource } from './token.ts'

/** The largest request body accepted (a group spec is a few KiB), bytes. */
export const MAX_BODY_BYTES = 1024 * 1024

/** Options of the API app. */
export interface ApiAppOptions {
  readonly service: TideService
  /** The bearer token every change needs (token.ts resolveApiToken); POST /token/rotate replaces it. */
  readonly token: string
  /**
   * Where the token came from: a file can be rotated (POST /token/rotate writes a new one to
   * it), a token from the environment cannot (409). Absent: rotation is refused (409).
   */
  readonly tokenSource?: TokenSource
  /** Reads (GET) open from any address (api.openReads); false (default): from loopback only, the token from elsewhere. */
  readonly openReads?: boolean
  /**
   * The remote address of a request, to open reads to loopback. Defaults to the socket's
   * (@hono/node-server's getConnInfo); undefined (no socket: an in-process request without one)
   * counts as not loopback.
   */
  readonly remoteAddress?: (c: Context) => string | undefined
  /** Heartbeat period of GET /events/stream, ms; 15 s when absent (tests shorten it). */
  readonly streamHeartbeatMs?: number
  /**
   * Request budgets per remote address (rate-limit.ts); DEFAULT_RATE_LIMITS when absent; false
   * turns them off (tests that send many changes from one address). Requests without an
   * address (in process) share one budget.
   */
  readonly rateLimits?: RateLimits | false
  /** The rate limiter's clock, epoch ms; Date.now when absent (tests step it). */
  readonly now?: () => number
  /** Who leads, for `GET /status` (docs/ha.md); absent: `{ role: 'single' }` (no election). */
  readonly leadership?: () => LeadershipStatus
}

/** The API app and what it holds open (the /metrics counters' subscription, the event streams). */
export interface ApiApp {
  readonly app: OpenAPIHono
  /** Stops following the service's events and ends every open `GET /events/stream`. */
  close(): void
}

// ── Schemas (validation and the OpenAPI document) ─────────────────────────────

const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'TIDE_ERR_API_NOT_FOUND', description: 'A stable code of docs/errors.md.' }),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().openapi({ description: 'For a rejected group spec (TIDE_ERR_CONFIG): every problem, by field.' }),
    }),
  })
  .openapi('Error')

const GroupName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a group name is lower-case letters, digits and dashes').max(63)
export const GroupParams = z.object({ name: GroupName.openapi({ param: { name: 'name', in: 'path' }, example: 'shop-web' }) })
const InstanceParams = GroupParams.extend({ id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' } }) })

const GroupSummarySchema = z
  .object({
    group: z.string(),
    provider: z.enum(['local', 'kubernetes', 'aws', 'sim']),
    state: z.enum(['active', 'removing']).openapi({ description: 'removing: deleted, its instances still draining.' }),
    paused: z.boolean(),
    status: z.unknown().openapi({ description: "The controller's plain status (docs/status.md: instances with phases, last decision with its explanation, forecast, slo, risks ahead: [{ kind: max|quota|budget, etaSeconds, message, basis: trend|forecast }]); null before the first tick." }),
  })
  .openapi('GroupSummary')
// zod's own .meta() (not .openapi(): GroupSchema may be built before @hono/zod-openapi extends zod).
const GroupSpecSchema = GroupSchema.meta({ id: 'GroupSpec', description: 'A group as in tide.yaml (docs/config.md); in answers, with every default filled in.' })
const GroupDetailSchema = GroupSummarySchema.extend({ spec: GroupSpecSchema }).openapi('GroupDetail')

/** A point in time in a query: ISO-8601 with an offset, or epoch milliseconds. */
const TimeParam = z.string().openapi({ description: 'ISO-8601 with an offset (2026-11-11T12:00:00+08:00) or epoch milliseconds.' })
export const EventsQuerySchema = z.strictObject({
  group: GroupName.optional(),
  type: z.string().optional().openapi({ description: `Event types, comma-separated: ${TIDE_EVENT_TYPES.join(', ')}.` }),
  since: TimeParam.optional(),
  until: TimeParam.optional(),
  limit: z.string().regex(/^[0-9]+$/, 'a whole number').optional().openapi({ description: `Events per page, 1 to ${MAX_EVENT_LIMIT}; default 100.` }),
  cursor: z.string().optional().openapi({ description: 'nextCursor of the page before.' }),
})
const StreamQuerySchema = z.strictObject({
  group: GroupName.optional(),
  type: z.string().optional().openapi({ description: 'Event types, comma-separated, as GET /events.' }),
})
export const MetricsQuerySchema = z.strictObject({
  series: z.string().optional().openapi({ description: `Series names, comma-separated (${HISTORY_SERIES.join(', ')}; docs/api.md says what each holds: rps req/s demand, p95 ms, capacity_rps req/s the in-service instances serve, forecast_lower_rps/forecast_upper_rps the forecast's band, headroom_percent, cost_per_hour or instance_hours_per_hour, slo_budget_spent_percent); all recorded when absent.` }),
  from: TimeParam.optional(),
  to: TimeParam.optional(),
  step: z.string().regex(/^[0-9]+(\.[0-9]+)?$/, 'a number of seconds').optional().openapi({ description: 'Bucket width in seconds, at least 1; default the range in about 360 buckets.' }),
})

/** The body of POST /groups/{name}/replay: the proposed spec and the window. */
const ReplayBodySchema = z
  .strictObject({
    spec: z.record(z.string(), z.unknown()).openapi({ description: 'The proposed group spec as in tide.yaml (GroupSpec), as JSON; validated whole as PUT /groups/{name} validates it.' }),
    hours: z.number().positive().max(MAX_REPLAY_HOURS).optional().openapi({ description: `Hours of recorded demand back from \`to\`: default ${DEFAULT_REPLAY_HOURS}, at most ${MAX_REPLAY_HOURS}.` }),
    from: z.union([z.string(), z.number()]).optional().openapi({ description: 'Start of the window instead of hours: ISO-8601 with an offset, or epoch ms.' }),
    to: z.union([z.string(), z.number()]).optional().openapi({ description: 'End of the window: ISO-8601 with an offset, or epoch ms; default now.' }),
  })
  .openapi('ReplayRequest')
const ReplayFiguresSchema = z
  .object({
    costInstanceHours: z.number().openapi({ description: 'Instance-hours billed over the window.' }),
    costRatioToOracle: z.number().openapi({ description: 'Cost ÷ the perfect-foresight oracle\'s cost on the same demand.' }),
    sloViolatedPercent: z.number().openapi({ description: 'Share of the window outside the SLO, percent.' }),
    failedRequestsPercent: z.number().openapi({ description: 'Share of offered requests that failed, percent.' }),
    peakInstances: z.number(),
    decisions: z.object({ up: z.number(), down: z.number(), hold: z.number() }),
    scaleOutActions: z.number(),
    scaleInActions: z.number(),
  })
  .openapi('ReplayFigures')
const ReplayResultSchema = z
  .object({
    group: z.string(),
    fromMs: z.number(),
    toMs: z.number(),
    demandPoints: z.number(),
    current: ReplayFiguresSchema,
    proposed: ReplayFiguresSchema,
    delta: z.object({ costInstanceHours: z.number(), costPercent: z.number().nullable(), sloViolatedPercent: z.number(), failedRequestsPercent: z.number(), peakInstances: z.number() }),
    model: z.object({ instanceRps: z.number(), startupSeconds: z.number(), sloP95Ms: z.number(), tickSeconds: z.number() }),
    notes: z.array(z.string()),
    elapsedMs: z.number(),
  })
  .openapi('ReplayResult')
const ScaleBodySchema = z
  .strictObject({
    desired: z.number().int('a whole number').min(0, 'at least 0').openapi({ description: 'The count to hold, clamped to the group\'s min and max (then its quota room and protection floor).', example: 6 }),
    holdSeconds: z
      .number()
      .int('a whole number')
      .min(1, 'at least 1')
      .max(MAX_HOLD_SECONDS, `at most ${MAX_HOLD_SECONDS} (a day)`)
      .optional()
      .openapi({ description: `How long it holds, seconds; default ${DEFAULT_HOLD_SECONDS} (15 minutes), at most ${MAX_HOLD_SECONDS} (a day).` }),
  })
  .openapi('ScaleRequest')
const ScaleAnswerSchema = z
  .object({
    group: z.string(),
    desired: z.number().int(),
    holding: z.number().int().openapi({ description: 'desired within min and max.' }),
    clamped: z.boolean(),
    clampedBy: z.string().optional().openapi({ example: 'max 20' }),
    untilMs: z.number().int(),
    message: z.string().openapi({ example: 'held at 20 until 2026-12-06T12:35:00.000Z (max 20; asked 25)' }),
  })
  .openapi('ScaleAnswer')
const StandbyBodySchema = z
  .strictObject({
    decrementDesired: z.boolean().optional().openapi({ description: "AWS's ShouldDecrementDesiredCapacity: true (default) lowers the desired count by one, so nothing replaces the instance; false keeps it, so a replacement is launched." }),
  })
  .openapi('StandbyRequest')
const StandbyAnswerSchema = z
  .object({ group: z.string(), instance: z.string(), standby: z.boolean(), desiredReplicas: z.object({ from: z.number().int(), to: z.number().int() }), message: z.string() })
  .openapi('StandbyAnswer')

/** GET /status: who leads (docs/ha.md); the standby's API answers the same shape. */
export const LeadershipStatusSchema = z
  .object({
    role: z.enum(['leader', 'standby', 'single']).openapi({ description: 'leader: holds the lease and acts; standby: serves reads only, changes answer 503 TIDE_ERR_API_NOT_LEADER; single: no election (one tide).' }),
    identity: z.string().optional().openapi({ description: "This tide's identity in the election (host-pid, or the pod's name)." }),
    leader: z.string().optional().openapi({ description: "The lease holder's identity as last seen; absent when nobody holds it." }),
    epoch: z.number().int().optional().openapi({ description: 'The lease epoch (fencing token) as last seen.' }),
    lease: z.string().optional().openapi({ description: 'The lease: tide_lease row name (PostgreSQL) or NAMESPACE/NAME (Kubernetes).' }),
  })
  .openapi('LeadershipStatus')

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description })
const errors = {
  400: json(ErrorSchema, 'Bad input (TIDE_ERR_API_BAD_REQUEST, TIDE_ERR_CONFIG, TIDE_ERR_STORE_QUERY).'),
  401: json(ErrorSchema, 'Missing or wrong token (TIDE_ERR_API_UNAUTHORIZED).'),
  404: json(ErrorSchema, 'No such group or instance (TIDE_ERR_API_NOT_FOUND).'),
}
const bearer = [{ bearer: [] }]

/** Every route, for the OpenAPI document; the handlers below parse with the same schemas. */
const routes = [
  createRoute({ method: 'get', path: '/status', summary: 'Who leads: this tide\'s role (leader, standby, single), the lease holder and its epoch', responses: { 200: json(LeadershipStatusSchema, 'The leadership.'), 401: errors[401] } }),
  createRoute({ method: 'get', path: '/groups', summary: 'List the groups with their status', responses: { 200: json(z.object({ groups: z.array(GroupSummarySchema) }), 'The groups.'), 401: errors[401] } }),
  createRoute({ method: 'get', path: '/groups/{name}', summary: "One group: its status and the spec in force (launch.env values redacted without the token)", request: { params: GroupParams }, responses: { 200: json(GroupDetailSchema, 'The group.'), 401: errors[401], 404: errors[404] } }),
  createRoute({
    method: 'put',
    path: '/groups/{name}',
    summary: 'Add or replace a group: validated whole as tide.yaml is, nothing applied on error',
    security: bearer,
    request: { params: GroupParams, body: { content: { 'application/json': { schema: GroupSpecSchema } }, required: true } },
    responses: {
      200: json(z.object({ group: z.string(), outcome: z.enum(['changed', 'unchanged']), spec: GroupSpecSchema }), 'Replaced (or the same spec again).'),
      201: json(z.object({ group: z.string(), outcome: z.literal('added'), spec: GroupSpecSchema }), 'Added.'),
      ...errors,
      409: json(ErrorSchema, 'The running tide cannot apply this change without a restart (TIDE_ERR_API_CONFLICT).'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/groups/{name}/validate',
    summary: 'Check a group spec as PUT would (same field-level issues, same conflicts), applying nothing',
    security: bearer,
    request: { params: GroupParams, body: { content: { 'application/json': { schema: GroupSpecSchema } }, required: true } },
    responses: {
      200: json(z.object({ group: z.string(), valid: z.literal(true), spec: GroupSpecSchema }), 'Valid: the spec PUT would put in force, defaults filled in.'),
      ...errors,
      409: json(ErrorSchema, 'Valid, but the running tide cannot apply it without a restart (TIDE_ERR_API_CONFLICT).'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/groups/{name}/replay',
    summary: "Replay a proposed spec on the group's recorded demand beside the spec in force (nothing is applied)",
    security: bearer,
    request: { params: GroupParams, body: { content: { 'application/json': { schema: ReplayBodySchema } }, required: true } },
    responses: {
      200: json(ReplayResultSchema, 'Both runs, their difference and notes.'),
      ...errors,
      409: json(ErrorSchema, 'The group is being removed (TIDE_ERR_API_CONFLICT).'),
      422: json(ErrorSchema, 'Too little recorded demand in the window (TIDE_ERR_API_INSUFFICIENT_DATA); the message says how much there is.'),
    },
  }),
  createRoute({ method: 'delete', path: '/groups/{name}', summary: 'Remove a group: its instances are drained, then stopped', security: bearer, request: { params: GroupParams }, responses: { 202: json(z.object({ group: z.string(), state: z.literal('removing') }), 'Removal begun.'), ...errors, 409: json(ErrorSchema, 'Already being removed.') } }),
  ...(['pause', 'resume'] as const).map((verb) =>
    createRoute({ method: 'post', path: `/groups/{name}/${verb}`, summary: verb === 'pause' ? "Pause the group's scaling: it holds its count" : "Resume the group's scaling", security: bearer, request: { params: GroupParams }, responses: { 200: json(z.object({ group: z.string(), paused: z.boolean(), changed: z.boolean() }), 'Done (changed: false when it already was).'), ...errors } }),
  ),
  createRoute({
    method: 'post',
    path: '/groups/{name}/scale',
    summary: 'Hold the group at a count (clamped to min/max) for holdSeconds or until cleared',
    security: bearer,
    request: { params: GroupParams, body: { content: { 'application/json': { schema: ScaleBodySchema } }, required: true } },
    responses: { 200: json(ScaleAnswerSchema, 'What it holds, until when, and whether min or max clamped it.'), ...errors, 409: json(ErrorSchema, 'The group is being removed.') },
  }),
  createRoute({ method: 'delete', path: '/groups/{name}/scale', summary: "End the group's manual scale: the engine decides again", security: bearer, request: { params: GroupParams }, responses: { 200: json(z.object({ group: z.string(), cleared: z.boolean() }), 'Done (cleared: false when none was in force).'), ...errors } }),
  createRoute({
    method: 'post',
    path: '/groups/{name}/instances/{id}/standby',
    summary: "Put an instance in standby: drained, out of the router's targets and the capacity, still running",
    security: bearer,
    request: { params: InstanceParams, body: { content: { 'application/json': { schema: StandbyBodySchema } }, required: false } },
    responses: { 200: json(StandbyAnswerSchema, 'Entering standby.'), ...errors, 409: json(ErrorSchema, 'Refused, saying why: not serving, already in standby, below min, or no router tide controls.') },
  }),
  createRoute({
    method: 'post',
    path: '/groups/{name}/instances/{id}/in-service',
    summary: 'Bring an instance back from standby: health-checked, then routed; desired one more',
    security: bearer,
    request: { params: InstanceParams },
    responses: { 200: json(StandbyAnswerSchema, 'Back in service.'), ...errors, 409: json(ErrorSchema, 'Not in standby.') },
  }),
  createRoute({
    method: 'post',
    path: '/token/rotate',
    summary: 'Replace the API token: the new one is answered once, the old one stops working at once',
    security: bearer,
    responses: { 200: json(z.object({ token: z.string(), path: z.string() }), 'The new token (shown only here) and the file it is kept in (mode 0600).'), 401: errors[401], 409: json(ErrorSchema, 'The token comes from an environment variable: change the variable and restart instead.') },
  }),
  ...(['protect', 'unprotect'] as const).map((verb) =>
    createRoute({ method: 'post', path: `/groups/{name}/instances/{id}/${verb}`, summary: verb === 'protect' ? 'Protect an instance from scale-in' : 'Lift the protection', security: bearer, request: { params: InstanceParams }, responses: { 200: json(z.object({ group: z.string(), instance: z.string(), protected: z.boolean() }), 'Done.'), ...errors } }),
  ),
  createRoute({ method: 'get', path: '/events', summary: 'The event log, newest first, filtered and paged', request: { query: EventsQuerySchema }, responses: { 200: json(z.object({ events: z.array(z.unknown()), nextCursor: z.string().optional() }), 'One page.'), 400: errors[400], 401: errors[401] } }),
  createRoute({
    method: 'get',
    path: '/events/stream',
    summary: 'New events as they are recorded (server-sent events); Last-Event-ID resumes from the store',
    request: { query: StreamQuerySchema, headers: z.object({ 'last-event-id': z.string().optional().openapi({ description: 'The id of the last event seen: the stored events after it are sent first.' }) }) },
    responses: { 200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'One `id:`/`event:`/`data:` frame per event (data: the event as GET /events shows it); a `: heartbeat` comment every 15 s.' }, 400: errors[400], 401: errors[401] },
  }),
  createRoute({ method: 'get', path: '/groups/{name}/metrics', summary: "A group's metric history in buckets", request: { params: GroupParams, query: MetricsQuerySchema }, responses: { 200: json(z.object({ group: z.string(), fromMs: z.number(), toMs: z.number(), series: z.record(z.string(), z.unknown()) }), 'The series.'), ...errors } }),
  createRoute({ method: 'get', path: '/metrics', summary: "tide's metrics in the Prometheus text format", responses: { 200: { content: { 'text/plain': { schema: z.string() } }, description: 'Prometheus exposition format 0.0.4.' }, 401: errors[401] } }),
]

// ── Helpers ───────────────────────────────────────────────────────────────────

/** `value` parsed by `schema`, or ApiError BAD_REQUEST naming each field (`where.field: message`). */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'path' | 'query' | 'body'): z.infer<T> {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const said = r.error.issues.map((i) => {
    const field = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.')
    const message = i.code === 'unrecognized_keys' ? `unknown parameter (allowed: ${Object.keys((schema as unknown as z.ZodObject).shape).join(', ')})` : i.message
    return `${where}${field === '' ? '' : `.${field}`}: ${message}`
  })
  throw new ApiError('TIDE_ERR_API_BAD_REQUEST', said.join('; '))
}

/** A time parameter as epoch ms: digits are epoch ms, anything else must be ISO-8601 with an offset. */
export function timeOf(name: string, text: string | undefined, where: 'query' | 'body' = 'query'): number | undefined {
  if (text === undefined) return undefined
  if (/^[0-9]{1,15}$/.test(text)) return Number(text)
  try {
    return isoToEpochMsOrThrow(text)
  } catch (err) {
    throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `${where}.${name}: ${err instanceof Error ? err.message : String(err)} (or epoch milliseconds)`)
  }
}

/** A comma-separated list, empty items dropped. */
export function listOf(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

/** `GET /events`'s query string as the service's EventsQuery, checked (BAD_REQUEST naming the field). */
export function eventsQueryOf(query: Record<string, string>): EventsQuery {
  const q = parse(EventsQuerySchema, query, 'query')
  const types = typesOf(q.type)
  const sinceMs = timeOf('since', q.since)
  const untilMs = timeOf('until', q.until)
  return {
    ...(q.group === undefined ? {} : { group: q.group }),
    ...(types === undefined ? {} : { types }),
    ...(sinceMs === undefined ? {} : { sinceMs }),
    ...(untilMs === undefined ? {} : { untilMs }),
    ...(q.limit === undefined ? {} : { limit: Number(q.limit) }),
    ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
  }
}

/** `GET /groups/{name}/metrics`'s query string as the service's MetricsQuery, checked (a step of at least 1 s). */
export function metricsQueryOf(query: Record<string, string>): MetricsQuery {
  const q = parse(MetricsQuerySchema, query, 'query')
  const series = listOf(q.series)
  const fromMs = timeOf('from', q.from)
  const toMs = timeOf('to', q.to)
  const stepMs = q.step === undefined ? undefined : Number(q.step) * 1000
  if (stepMs !== undefined && !(stepMs >= 1000)) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `query.step: at least 1 second, got ${q.step}`)
  return {
    ...(series === undefined ? {} : { series }),
    ...(fromMs === undefined ? {} : { fromMs }),
    ...(toMs === undefined ? {} : { toMs }),
    ...(stepMs === undefined ? {} : { stepMs }),
  }
}

/** The `type=` parameter as event types, or ApiError BAD_REQUEST naming the unknown ones. */
export function typesOf(text: string | undefined): TideEventType[] | undefined {
  const types = listOf(text)
  const unknown = types?.filter((t) => !isTideEventType(t)) ?? []
  if (unknown.length > 0) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `query.type: unknown event type ${unknown.map((t) => JSON.stringify(t)).join(', ')} (types: ${TIDE_EVENT_TYPES.join(', ')})`)
  return types as TideEventType[] | undefined
}

/** The remote address from the node server's socket; undefined when the request has none (in process). */
export function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address
  } catch {
    return undefined
  }
}

/** The JSON body of a request, or ApiError BAD_REQUEST saying why it is not JSON; `empty` stands for an empty body when given (else an empty body is refused, naming `what`). */
async function jsonBody(c: Context, what = 'the group spec', empty?: unknown): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') {
    if (empty !== undefined) return empty
    throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `the body is empty: send ${what} as JSON`)
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `the body is not JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** The error answer of any error: its registry status and code; anything not a TideError is a 500 TIDE_ERR_API_INTERNAL. */
export function errorAnswer(c: Context, err: unknown): Response {
  const status = httpStatusOf(err) as 400
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof ConfigError) {
    const issues = err.issues.map((i) => ({ path: i.path, message: i.message }))
    return c.json({ error: { code: err.code, message: `the group spec is not valid: ${issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')}`, issues } }, status)
  }
  if (isTideError(err)) {
    if (err.code === 'TIDE_ERR_API_UNAUTHORIZED') c.header('WWW-Authenticate', 'Bearer realm="tide"')
    return c.json({ error: { code: err.code, message } }, status)
  }
  return c.json({ error: { code: 'TIDE_ERR_API_INTERNAL', message: `internal error: ${message}` } }, 500)
}

// ── The app ───────────────────────────────────────────────────────────────────

/** Builds the API app over `service`. */
export function createApiApp(opts: ApiAppOptions): ApiApp {
  const { service } = opts
  let token = opts.token
  const remoteAddress = opts.remoteAddress ?? socketAddress
  const app = new OpenAPIHono()
  const metrics = tideMetrics(service)
  /** Aborted by close(): ends every open event stream. */
  const closing = new AbortController()
  const authorized = (c: Context): boolean => bearerMatches(c.req.header('authorization'), token)
  const readable = (c: Context): boolean => opts.openReads === true || isLoopback(remoteAddress(c))

  app.onError((err, c) => errorAnswer(c, err))
  app.notFound((c) => errorAnswer(c, new ApiError('TIDE_ERR_API_NOT_FOUND', `no route ${c.req.method} ${c.req.path} (GET /openapi.json lists them)`)))

  const limiter = opts.rateLimits === false ? undefined : new RateLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS, opts.now)
  // Changes need the token; reads need it from beyond loopback. Every request first takes its
  // token from its address's budget; a refused token costs FAILED_AUTH_COST more.
  app.use('*', async (ctx, next) => {
    const c = ctx as Context
    const read = c.req.method === 'GET' || c.req.method === 'HEAD'
    const address = remoteAddress(c) ?? '(no address)'
    const wait = limiter?.take(read ? 'reads' : 'changes', address) ?? 0
    if (wait > 0) {
      c.header('Retry-After', String(wait))
      return errorAnswer(c, new ApiError('TIDE_ERR_API_RATE_LIMITED', `too many ${read ? 'reads' : 'changes'} from ${address}: retry in ${wait} s (docs/api.md, "Rate limits")`))
    }
    if (!authorized(c) && !(read && readable(c))) {
      limiter?.charge('changes', address, FAILED_AUTH_COST)
      const why = c.req.header('authorization') === undefined ? 'no token' : 'a wrong token'
      throw new ApiError('TIDE_ERR_API_UNAUTHORIZED', `${read ? 'reads from beyond loopback need' : `${c.req.method} needs`} the API token (Authorization: Bearer …); this request has ${why}`)
    }
    await next()
    // A change is in the store before it is answered (a PostgreSQL store's flush; nothing for SQLite).
    if (!read) await service.flush()
  })
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `the body is larger than ${MAX_BODY_BYTES} bytes`) } }))

  for (const r of routes) app.openAPIRegistry.registerPath(r)
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'The API token: from the environment variable api.tokenEnv names, or the state directory\'s api-token file.' })

  app.get('/status', (c) => c.json(opts.leadership?.() ?? { role: 'single' }))
  app.get('/groups', (c) => c.json({ groups: service.listGroups() }))
  app.get('/groups/:name', (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    return c.json(service.getGroup(name, { revealEnv: authorized(c) }))
  })
  app.put('/groups/:name', async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    const result = await service.applyGroup(name, await jsonBody(c))
    return c.json(result, result.outcome === 'added' ? 201 : 200)
  })
  app.post('/groups/:name/replay', async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    const body = parse(ReplayBodySchema, await jsonBody(c), 'body')
    const fromMs = body.from === undefined ? undefined : typeof body.from === 'number' ? body.from : timeOf('from', body.from, 'body')
    const toMs = body.to === undefined ? undefined : typeof body.to === 'number' ? body.to : timeOf('to', body.to, 'body')
    return c.json(
      await service.replay(name, body.spec, {
        ...(body.hours === undefined ? {} : { hours: body.hours }),
        ...(fromMs === undefined ? {} : { fromMs }),
        ...(toMs === undefined ? {} : { toMs }),
      }),
    )
  })
  app.post('/groups/:name/validate', async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    const { spec } = service.validateGroup(name, await jsonBody(c))
    return c.json({ group: name, valid: true, spec })
  })
  app.delete('/groups/:name', async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    return c.json(await service.deleteGroup(name), 202)
  })
  for (const verb of ['pause', 'resume'] as const) {
    app.post(`/groups/:name/${verb}`, (c) => {
      const { name } = parse(GroupParams, c.req.param(), 'path')
      return c.json(service.setPaused(name, verb === 'pause'))
    })
  }
  app.post('/groups/:name/scale', async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    const body = parse(ScaleBodySchema, await jsonBody(c, '{"desired": N, "holdSeconds": S}'), 'body')
    return c.json(service.setManualScale(name, body.desired, body.holdSeconds))
  })
  app.delete('/groups/:name/scale', (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    return c.json(service.clearManualScale(name))
  })
  app.post('/groups/:name/instances/:id/standby', async (c) => {
    const { name, id } = parse(InstanceParams, c.req.param(), 'path')
    const body = parse(StandbyBodySchema, await jsonBody(c, '{"decrementDesired": true|false}', {}), 'body')
    return c.json(service.setStandby(name, id, true, body.decrementDesired ?? true))
  })
  app.post('/groups/:name/instances/:id/in-service', (c) => {
    const { name, id } = parse(InstanceParams, c.req.param(), 'path')
    return c.json(service.setStandby(name, id, false))
  })
  app.post('/token/rotate', (c) => {
    const source = opts.tokenSource
    if (source?.kind === 'env') throw new ApiError('TIDE_ERR_API_CONFLICT', `the token comes from the environment variable ${source.name}: tide cannot change it; set a new value there and restart tide up`)
    if (source === undefined) throw new ApiError('TIDE_ERR_API_CONFLICT', 'this API was given its token directly, with no file to keep a new one in')
    const next = rotateTokenFile(source.path)
    token = next
    return c.json({ token: next, path: source.path })
  })
  for (const verb of ['protect', 'unprotect'] as const) {
    app.post(`/groups/:name/instances/:id/${verb}`, (c) => {
      const { name, id } = parse(InstanceParams, c.req.param(), 'path')
      return c.json(service.setProtection(name, id, verb === 'protect'))
    })
  }
  app.get('/events/stream', (c) => {
    const q = parse(StreamQuerySchema, c.req.query(), 'query')
    const types = typesOf(q.type)
    const last = c.req.header('last-event-id')?.trim()
    // An id that is not a store id (not a whole number) resumes nothing: the stream starts now.
    const afterId = last !== undefined && /^[0-9]{1,15}$/.test(last) ? Number(last) : undefined
    const body = eventStream(service, {
      ...(q.group === undefined ? {} : { group: q.group }),
      ...(types === undefined ? {} : { types }),
      ...(afterId === undefined ? {} : { afterId }),
      ...(opts.streamHeartbeatMs === undefined ? {} : { heartbeatMs: opts.streamHeartbeatMs }),
      // Ends when the client goes away, or when the API closes (a stopping tide ends its streams, so its server can stop).
      signal: AbortSignal.any([c.req.raw.signal, closing.signal]),
    })
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' } })
  })
  app.get('/events', async (c) => {
    return c.json(await service.events(eventsQueryOf(c.req.query())))
  })
  app.get('/groups/:name/metrics', async (c) => {
    const { name } = parse(GroupParams, c.req.param(), 'path')
    return c.json(await service.metrics(name, metricsQueryOf(c.req.query())))
  })
  app.get('/metrics', async (c) => {
    const text = await metrics.registry.metrics()
    return c.text(text, 200, { 'Content-Type': metrics.registry.contentType })
  })
  mountDashboard(app)
  app.get('/openapi.json', (c) =>
    c.json(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: { title: 'tide API', version: '1', description: 'Operate a running tide: groups, events, metric history. docs/api.md says more.' },
      }),
    ),
  )
  return {
    app,
    close: () => {
      closing.abort()
      metrics.close()
    },
  }
}
