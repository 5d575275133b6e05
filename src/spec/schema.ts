/**
 * The tide.yaml schema: one document per group, plus at most one global document
 * (quotas, store, api). Field names follow the Kubernetes HPA v2 where a concept
 * exists there, so that HPA users recognise them. Every object is strict: an
 * unknown field is an error, never silently ignored.
 */
import { z } from 'zod'
import { isPostgresUrl } from '../core/postgres-url.ts'
import { Priorities } from '../core/priority.ts'
import { AwsSchema, awsGroupIssues } from './aws.ts'
import { ExternalFallbackSchema, ExternalSourceSchema } from './sources/index.ts'
import { KubernetesSchema, kubernetesGroupIssues } from './kubernetes.ts'

/**
 * Upper bounds of the schema's numbers (docs/config.md "Bounds"). Every number has one: a value
 * beyond any real use is a typo or an attack, and some would break tide rather than be refused
 * later (a syncPeriodSeconds of 1e308 overflows Node's timers, which then fire every
 * millisecond). Durations that become timers stay under a day, far below the 24.8 days
 * (2^31 − 1 ms) a Node timer can wait.
 */
export const BOUNDS = {
  /** Instances in one group (replicas.*, schedules' replicas, a fallback count). */
  replicas: 10_000,
  /** A duration in seconds that becomes a timer or a window: one day. */
  daySeconds: 86_400,
  /** A shorter duration: one hour, in seconds. */
  hourSeconds: 3_600,
  /** A latency in milliseconds: one hour. */
  latencyMs: 3_600_000,
  /** A metric target or threshold (requests/s, in-flight requests, an external value). */
  metricValue: 1e12,
  /** Cpu cores of one size. */
  cpu: 1_024,
  /** Memory of one size, MiB (16 TiB). */
  memoryMiB: 16_777_216,
  /** Requests/s one instance serves. */
  instanceRps: 1e9,
} as const

const positive = z.number().positive()
const nonNegativeInt = z.number().int().nonnegative()
const positiveInt = z.number().int().positive()
/** Seconds in (0, max]. */
const positiveSeconds = (max: number) => positive.max(max)
/** Seconds in [0, max]. */
const seconds = (max: number) => z.number().nonnegative().max(max)
const replicaCount = nonNegativeInt.max(BOUNDS.replicas)

/** An instance size: cpu cores and memory. `pricePerHour` is optional and drives the mixed planner. */
export const SizeSchema = z.strictObject({
  name: z.string().min(1).optional(),
  cpu: positive.max(BOUNDS.cpu),
  memoryMiB: positiveInt.max(BOUNDS.memoryMiB),
  pricePerHour: z.number().nonnegative().max(1_000_000).optional(),
})

/** Launch of a `local` instance: an argv array, never a shell string. */
export const LaunchSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
})

export const ReplicasSchema = z
  .strictObject({
    min: replicaCount.default(1),
    max: positiveInt.max(BOUNDS.replicas).default(10),
    /** Replicas to start with; defaults to min. */
    initial: replicaCount.optional(),
  })
  .refine((r) => r.min <= r.max, { message: 'must not exceed replicas.max', path: ['min'] })

export const HealthSchema = z.strictObject({
  path: z.string().startsWith('/').default('/healthz'),
  intervalSeconds: positiveSeconds(BOUNDS.hourSeconds).default(2),
  timeoutSeconds: positiveSeconds(BOUNDS.hourSeconds).default(1),
  healthyThreshold: positiveInt.max(1_000).default(2),
  unhealthyThreshold: positiveInt.max(1_000).default(3),
  /** Seconds after launch during which failing checks do not mark the instance unhealthy. */
  graceSeconds: seconds(BOUNDS.daySeconds).default(10),
})

export const PriorityClassSchema = z.strictObject({
  name: z.string().min(1),
  pathPrefix: z.string().startsWith('/').optional(),
  priority: z.enum(Priorities).default('normal'),
})

/** The router's limits on what a client may send and how long a request may take. */
export const RoutingLimitsSchema = z.strictObject({
  /** Total size of a request's header block; larger gets 431. */
  maxHeaderBytes: positiveInt.max(1024 * 1024).default(16384),
  /** Request body size; larger gets 413 (at once when Content-Length says so, else when the limit is crossed). */
  maxBodyBytes: nonNegativeInt.max(2 ** 40).default(10 * 1024 * 1024),
  /** From the request's arrival to the end of the instance's response; exceeded gets 504. */
  requestTimeoutSeconds: positiveSeconds(BOUNDS.daySeconds).default(30),
})

/**
 * Instances one group may have with routing.proxy haproxy. Its server slots are twice as
 * many, so that a resize (new sizes launched before old ones drain) never runs out.
 */
export const HAPROXY_MAX_INSTANCES = 128

/** Backup targets a group may name (routing.backup.instances): operator-run servers, not scaled by tide. */
export const BACKUP_MAX_INSTANCES = 16

/**
 * Whether `url` is a backup upstream tide can forward to: `http://host[:port][/prefix]`, with no
 * credentials, query or fragment (the request's own path and query are appended to the prefix).
 * https is refused: tide's proxies speak plain HTTP to what they forward to.
 */
export function isBackupUrl(url: string): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  return u.protocol === 'http:' && u.hostname !== '' && u.username === '' && u.password === '' && u.search === '' && u.hash === '' && !/[?#]/.test(url)
}

/**
 * A backup pool (docs/router.md "Backup pool and failover"): targets that get traffic only while
 * no primary instance is routable. Either fixed servers the operator runs (`instances`) or one
 * upstream (`url`), never both.
 */
export const BackupSchema = z
  .strictObject({
    instances: z
      .array(
        z.strictObject({
          host: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address'),
          port: z.number().int().min(1).max(65535),
        }),
      )
      .min(1)
      .max(BACKUP_MAX_INSTANCES)
      .optional(),
    url: z.string().refine(isBackupUrl, 'must be http://host:port[/prefix] (plain http, no credentials, query or fragment)').optional(),
  })
  .refine((b) => !(b.instances !== undefined && b.url !== undefined), {
    message: 'routing.backup takes either instances (fixed servers) or url (an upstream), not both',
  })
  .refine((b) => b.instances !== undefined || b.url !== undefined, {
    message: 'routing.backup needs instances (a list of { host, port }) or url (http://host:port[/prefix])',
  })

export const RoutingSchema = z.strictObject({
  listen: z.number().int().min(0).max(65535).default(8080),
  host: z.string().default('127.0.0.1'),
  balance: z.enum(['p2c', 'round-robin']).default('p2c'),
  drainSeconds: seconds(BOUNDS.daySeconds).default(30),
  retries: nonNegativeInt.max(10).default(1),
  classes: z.array(PriorityClassSchema).default([]),
  /** What forwards the requests: tide's own proxy in Node, or HAProxy driven through its runtime API (docs/router.md). */
  proxy: z.enum(['tide', 'haproxy']).default('tide'),
  /**
   * Where the proxy cores run (docs/ha.md): `process`, a data-plane process of the group's own
   * that outlives tide (a crashed or restarted tide takes no traffic with it; the next tide
   * adopts it), or `in-process`, inside tide (stops with it). `tide demo` runs in-process.
   */
  dataPlane: z.enum(['process', 'in-process']).default('process'),
  /** Proxy cores (node:cluster workers sharing the listen socket); 0 = one per core, 1 = one core. With proxy haproxy: HAProxy's threads. */
  workers: nonNegativeInt.max(1_024).default(0),
  /** Requests one instance is given at once; beyond it requests wait in the queue or are shed (docs/router.md). */
  maxInFlightPerInstance: positiveInt.max(100_000).default(64),
  /** Requests that may wait for a free slot when every instance is at its limit (high priority first). */
  queueLength: nonNegativeInt.max(1_000_000).default(256),
  /** A queued request waiting longer than this gets 503 with Retry-After. */
  queueTimeoutSeconds: positiveSeconds(BOUNDS.hourSeconds).default(5),
  /** Share of capacity kept for normal and high priority: low is shed once in-flight reaches (1 − this) × capacity. */
  lowPriorityHeadroomRatio: z.number().min(0).max(1).default(0.1),
  /** The Retry-After header of a shed request, in seconds. */
  retryAfterSeconds: positiveInt.max(BOUNDS.daySeconds).default(1),
  /** Consecutive connect failures or 5xx answers that eject an instance until health checks re-admit it; 0 = never. */
  ejectAfterFailures: nonNegativeInt.max(1_000_000).default(5),
  limits: RoutingLimitsSchema.default(() => RoutingLimitsSchema.parse({})),
  /** Servers or an upstream that serve only while no primary instance is routable; none by default. */
  backup: BackupSchema.optional(),
})

const averageUtilization = z.strictObject({ averageUtilization: z.number().positive().max(1000) })
const averageValue = z.strictObject({ averageValue: positive.max(BOUNDS.metricValue) })
const totalValue = z.strictObject({ value: positive.max(BOUNDS.metricValue) })
/** A per-instance byte rate, MiB/s (1 MiB = 1,048,576 bytes), as memory's target is in MiB. */
const averageValueMiBPerSecond = z.strictObject({ averageValueMiBPerSecond: positive.max(BOUNDS.memoryMiB) })

/** Which storage bytes a `disk` metric counts: read, written, or both summed. */
export const DiskDirections = ['read', 'write', 'total'] as const
/** Which HTTP bytes a `network` metric counts: received by the instance (requests), sent (responses), or both. */
export const NetworkDirections = ['in', 'out', 'total'] as const


/**
 * A target-tracking metric. The HPA's Resource/Pods/External metrics map to
 * cpu/memory (per-instance utilisation of the instance's size), rps/inflight
 * (per-instance averages), latency (group percentile, a tide addition) and external
 * (a query's value, total or per instance). disk and network (tide additions, as Pods
 * metrics) are per-instance byte rates: storage bytes from /proc/<pid>/io, HTTP bytes
 * counted by the router (docs/config.md "Disk and network").
 */
export const MetricSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('cpu'), target: averageUtilization }),
  z.strictObject({ type: z.literal('memory'), target: z.union([averageUtilization, z.strictObject({ averageValueMiB: positive.max(BOUNDS.memoryMiB) })]) }),
  z.strictObject({ type: z.literal('rps'), target: averageValue }),
  z.strictObject({ type: z.literal('inflight'), target: averageValue }),
  z.strictObject({ type: z.literal('disk'), direction: z.enum(DiskDirections).default('total'), target: averageValueMiBPerSecond }),
  z.strictObject({ type: z.literal('network'), direction: z.enum(NetworkDirections).default('total'), target: averageValueMiBPerSecond }),
  z.strictObject({
    type: z.literal('latency'),
    percentile: z.union([z.literal(50), z.literal(90), z.literal(95), z.literal(99)]).default(95),
    /** Restrict to one priority class (e.g. checkout); the whole group when absent. */
    class: z.string().min(1).optional(),
    target: z.strictObject({ valueMs: positive.max(BOUNDS.latencyMs) }),
  }),
  z.strictObject({
    type: z.literal('external'),
    /** What the source is asked: a PromQL expression (prometheus), a JSON path (http-json). */
    query: z.string().min(1),
    source: ExternalSourceSchema,
    /** After failureThreshold failures in a row, propose this many instances; absent: hold. */
    fallback: ExternalFallbackSchema.optional(),
    target: z.union([averageValue, totalValue]),
  }),
])

/** Which signal a step rule watches. */
export const MetricRefSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('cpu') }),
  z.strictObject({ type: z.literal('memory') }),
  z.strictObject({ type: z.literal('rps') }),
  z.strictObject({ type: z.literal('inflight') }),
  z.strictObject({ type: z.literal('disk'), direction: z.enum(DiskDirections).default('total') }),
  z.strictObject({ type: z.literal('network'), direction: z.enum(NetworkDirections).default('total') }),
  z.strictObject({
    type: z.literal('latency'),
    percentile: z.union([z.literal(50), z.literal(90), z.literal(95), z.literal(99)]).default(95),
    class: z.string().min(1).optional(),
  }),
  z.strictObject({ type: z.literal('external'), query: z.string().min(1), source: ExternalSourceSchema }),
])

/**
 * A step-scaling rule (AWS step scaling): when the metric is above (or below) the
 * threshold, change capacity by Pods (count), Percent, or set it Exact.
 * cpu is in percent of the instance size, latency in ms, rps per instance, disk and
 * network in MiB/s per instance.
 */
export const StepRuleSchema = z
  .strictObject({
    metric: MetricRefSchema,
    above: z.number().min(-BOUNDS.metricValue).max(BOUNDS.metricValue).optional(),
    below: z.number().min(-BOUNDS.metricValue).max(BOUNDS.metricValue).optional(),
    change: z.strictObject({ type: z.enum(['Pods', 'Percent', 'Exact']), value: z.number().int().min(-100_000).max(100_000) }),
    cooldownSeconds: seconds(BOUNDS.daySeconds).default(60),
  })
  .refine((s) => (s.above === undefined) !== (s.below === undefined), {
    message: 'a step rule needs exactly one of above or below',
  })

export const ScalingPolicySchema = z.strictObject({
  type: z.enum(['Pods', 'Percent']),
  value: positiveInt.max(100_000),
  periodSeconds: z.number().int().positive().max(1800),
})

const rules = (stabilization: number, policies: z.infer<typeof ScalingPolicySchema>[]) =>
  z.strictObject({
    stabilizationWindowSeconds: z.number().int().nonnegative().max(3600).default(stabilization),
    /**
     * HPA tolerance for this direction: no change while 1 − scaleDown ≤ metric/target ≤ 1 + scaleUp.
     * Non-negative with no upper bound, as the HPA's (KEP-4951): a scale-down tolerance of 1 or more
     * means this group's metrics never scale it in; a scale-up tolerance of 2 acts only above 3× target.
     */
    tolerance: z.number().nonnegative().max(1_000).default(0.1),
    policies: z.array(ScalingPolicySchema).min(1).default(policies),
    selectPolicy: z.enum(['Max', 'Min', 'Disabled']).default('Max'),
  })

/** HPA v2 behavior with the HPA's defaults. */
export const BehaviorSchema = z.strictObject({
  scaleUp: rules(0, [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ]).default(() => ({
    stabilizationWindowSeconds: 0,
    tolerance: 0.1,
    policies: [
      { type: 'Percent' as const, value: 100, periodSeconds: 15 },
      { type: 'Pods' as const, value: 4, periodSeconds: 15 },
    ],
    selectPolicy: 'Max' as const,
  })),
  scaleDown: rules(300, [{ type: 'Percent', value: 100, periodSeconds: 15 }]).default(() => ({
    stabilizationWindowSeconds: 300,
    tolerance: 0.1,
    policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }],
    selectPolicy: 'Max' as const,
  })),
})

const isoDateTime = z.iso.datetime({ offset: true })

/**
 * A schedule raises or lowers min/max/desired for a window: either a one-off
 * window (start/end, e.g. a flash-sale campaign) or a recurring one (cron in a
 * time zone, lasting durationMinutes). `campaign` marks flash sales for the
 * campaign calendar (predictive pre-warming, learned uplift).
 */
export const ScheduleSchema = z
  .strictObject({
    name: z.string().min(1),
    start: isoDateTime.optional(),
    end: isoDateTime.optional(),
    cron: z.string().min(1).optional(),
    /** At most 366 days. */
    durationMinutes: positive.max(527_040).optional(),
    timezone: z.string().min(1).default('UTC'),
    /** Bounds for the window; a campaign may leave them out and let the predictive policy size it from its uplift. */
    replicas: z.strictObject({ min: replicaCount.optional(), max: positiveInt.max(BOUNDS.replicas).optional(), desired: replicaCount.optional() }).default({}),
    campaign: z
      .strictObject({
        /** Expected load multiplier during the window; learned from past events of the same name when absent. */
        uplift: positive.max(1_000).optional(),
        /** Minutes before start to have capacity ready (at most a week). */
        leadMinutes: z.number().nonnegative().max(10_080).default(10),
      })
      .optional(),
  })
  .refine((s) => s.campaign !== undefined || s.replicas.min !== undefined || s.replicas.max !== undefined || s.replicas.desired !== undefined, {
    message: 'a schedule must set at least one of replicas.min, max, desired (or be a campaign)',
    path: ['replicas'],
  })
  .refine((s) => (s.start !== undefined && s.end !== undefined) !== (s.cron !== undefined && s.durationMinutes !== undefined), {
    message: 'a schedule needs either start and end, or cron and durationMinutes',
  })
  .refine((s) => s.start === undefined || s.end === undefined || Date.parse(s.start) < Date.parse(s.end), {
    message: 'schedule end must be after start',
    path: ['end'],
  })

export const PredictiveSchema = z.strictObject({
  mode: z.enum(['off', 'forecastOnly', 'forecastAndScale']).default('off'),
  /** Extra capacity above the forecast, in percent. */
  bufferPercent: z.number().nonnegative().max(500).default(10),
  /** Seconds ahead to launch; `auto` uses the measured start-up time. */
  schedulingBufferSeconds: z.union([z.literal('auto'), seconds(BOUNDS.daySeconds)]).default('auto'),
  /** Forecast error (WAPE, percent: live once scored, else the backtest's) above which the policy backs off. */
  maxErrorPercent: positive.max(1_000).default(30),
})

export const VerticalSchema = z.strictObject({
  mode: z.enum(['off', 'recommend', 'auto']).default('off'),
  percentile: z.number().positive().max(100).default(90),
  headroomPercent: z.number().nonnegative().max(500).default(15),
  halfLifeHours: positive.max(8_760).default(24),
})

export const LifecycleSchema = z.strictObject({
  preStop: z.strictObject({ http: z.string().startsWith('/'), timeoutSeconds: positiveSeconds(BOUNDS.hourSeconds).default(30) }).optional(),
  backup: z.strictObject({ command: z.array(z.string().min(1)).min(1), timeoutSeconds: positiveSeconds(BOUNDS.daySeconds).default(60) }).optional(),
})

export const AlertEventSchema = z.enum(['instance-unhealthy', 'instance-replaced', 'at-max-capacity', 'quota-exhausted', 'capacity-unavailable', 'scaled', 'risk'])

export const AlertSchema = z.strictObject({
  webhook: z.url({ protocol: /^https?$/ }),
  on: z.array(AlertEventSchema).min(1),
})

/**
 * How much spare capacity a group keeps above its demand (docs/config.md "SLO and headroom"):
 * `learned` (the default) keeps the quantile of the group's own demand rises that holds the
 * violation budget; `fixed` keeps `percent` always. `percent` is also the learned mode's safe
 * default until enough history exists.
 */
export const HeadroomSchema = z.strictObject({
  mode: z.enum(['learned', 'fixed']).default('learned'),
  percent: z.number().nonnegative().max(500).default(40),
  /** Bounds on the learned headroom, percent. */
  minPercent: z.number().nonnegative().max(500).default(5),
  maxPercent: z.number().nonnegative().max(1000).default(300),
  /** Days of demand the learned headroom is taken over. */
  windowDays: z.number().int().positive().max(28).default(7),
})

/**
 * The service-level objective a group is scaled to keep. The objective is the contract; cost is
 * what is minimised within it. With `instanceRps` (what one instance of the group's size serves
 * within the objective) tide scales on demand with learned headroom (the `slo` policy) and no
 * utilisation target has to be guessed; without it the objective is still measured against the
 * latency signal and its budget reported in status.
 */
export const SloSchema = z
  .strictObject({
    /** The p95 response time the service must keep, ms. */
    latencyP95Ms: positive.max(BOUNDS.latencyMs).default(200),
    /** Share of time allowed outside the objective, percent (0.5 = about 3.6 hours a month). */
    budgetPercent: z.number().positive().max(50).default(0.5),
    /** Requests/s one instance of the group's size serves with its p95 within latencyP95Ms (measure it with tide load). */
    instanceRps: positive.max(BOUNDS.instanceRps).optional(),
    headroom: HeadroomSchema.optional(),
    /**
     * Scale out on every fresh demand signal (the router's second, the simulator's step) when
     * the demand outgrows the count in force, instead of waiting for the next sync period.
     * Scale-in stays on the sync period and its stabilization window.
     */
    fastScaleOut: z.boolean().default(true),
  })
  .refine((s) => s.headroom === undefined || s.instanceRps !== undefined, {
    message: 'slo.headroom needs slo.instanceRps: the headroom is kept above what instanceRps instances serve',
    path: ['headroom'],
  })
  .refine((s) => s.headroom === undefined || s.headroom.minPercent <= s.headroom.maxPercent, {
    message: 'must not exceed slo.headroom.maxPercent',
    path: ['headroom', 'minPercent'],
  })

/** Parameters of the simulator's workload model; flags override them. */
export const SimulationSchema = z.strictObject({
  /** Requests/s one default-size instance sustains with p95 exactly at the SLO. */
  instanceRps: positive.max(BOUNDS.instanceRps).optional(),
  sloP95Ms: positive.max(BOUNDS.latencyMs).optional(),
  startupSeconds: seconds(BOUNDS.daySeconds).optional(),
  /** A request waiting longer than this fails. */
  requestTimeoutSeconds: positiveSeconds(BOUNDS.hourSeconds).optional(),
})

export const GroupSchema = z
  .strictObject({
    group: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a group name is lower-case letters, digits and dashes'),
    provider: z.enum(['local', 'kubernetes', 'aws', 'sim']).default('local'),
    /** The Deployment or StatefulSet a provider-kubernetes group scales (spec/kubernetes.ts); only with provider kubernetes. */
    kubernetes: KubernetesSchema.optional(),
    launch: LaunchSchema.optional(),
    size: SizeSchema.default({ cpu: 1, memoryMiB: 512 }),
    /** The size ladder for vertical and mixed scaling, smallest first. */
    sizes: z.array(SizeSchema).default([]),
    replicas: ReplicasSchema.default({ min: 1, max: 10 }),
    /** How often the controller decides, as the HPA's --horizontal-pod-autoscaler-sync-period. */
    syncPeriodSeconds: positiveSeconds(BOUNDS.hourSeconds).default(15),
    /** Expected seconds from launch to ready; the predictive policy's scheduling buffer. */
    startupSeconds: seconds(BOUNDS.daySeconds).default(30),
    /** Ready instances serve but are left out of scaling metrics for this long (AWS warm-up). */
    warmupSeconds: seconds(BOUNDS.daySeconds).default(15),
    /**
     * Target tracking's cpu, as the HPA's --horizontal-pod-autoscaler-cpu-initialization-period:
     * this long after launch, a cpu reading counts only if the instance is ready and the reading's
     * window began after it became ready (engine/instance-classes.ts cpuSampleIgnored).
     */
    cpuInitializationPeriodSeconds: seconds(BOUNDS.daySeconds).default(300),
    /**
     * As the HPA's --horizontal-pod-autoscaler-initial-readiness-delay: past the cpu
     * initialization period, an unready instance's cpu is left out when its readiness transition
     * came less than this long after launch (the HPA takes it as never having been ready).
     */
    initialReadinessDelaySeconds: seconds(BOUNDS.daySeconds).default(30),
    health: HealthSchema.default(() => HealthSchema.parse({})),
    routing: RoutingSchema.default(() => RoutingSchema.parse({})),
    metrics: z.array(MetricSchema).default([]),
    steps: z.array(StepRuleSchema).default([]),
    behavior: BehaviorSchema.default(() => BehaviorSchema.parse({})),
    schedules: z.array(ScheduleSchema).default([]),
    predictive: PredictiveSchema.default(() => PredictiveSchema.parse({})),
    vertical: VerticalSchema.default(() => VerticalSchema.parse({})),
    strategy: z.enum(['horizontal', 'vertical', 'mixed']).default('horizontal'),
    mixedOrder: z.enum(['vertical-first', 'horizontal-first', 'cheapest']).default('cheapest'),
    lifecycle: LifecycleSchema.default({}),
    alerts: z.array(AlertSchema).default([]),
    /** The objective the group is scaled to keep; with slo.instanceRps, scaling with learned headroom. */
    slo: SloSchema.optional(),
    simulation: SimulationSchema.default({}),
    /** The Auto Scaling group a provider-aws group drives (spec/aws.ts); only with provider aws. */
    aws: AwsSchema.optional(),
  })
  .refine((g) => g.provider !== 'local' || g.launch !== undefined, {
    message: 'a group with provider local needs launch.command',
    path: ['launch'],
  })
  .superRefine((g, ctx) => {
    for (const issue of kubernetesGroupIssues(g)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message })
  })
  .refine((g) => g.routing.proxy !== 'haproxy' || g.replicas.max <= HAPROXY_MAX_INSTANCES, {
    message: `routing.proxy haproxy routes at most ${HAPROXY_MAX_INSTANCES} instances: lower replicas.max`,
    path: ['replicas', 'max'],
  })
  .superRefine((g, ctx) => {
    for (const issue of awsGroupIssues(g)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message })
  })

const QuotaLimitsSchema = z.strictObject({
  maxInstances: nonNegativeInt.max(1_000_000).optional(),
  maxCpu: z.number().nonnegative().max(1_048_576).optional(),
  maxMemoryMiB: nonNegativeInt.max(2 ** 40).optional(),
})

/** Why a `store.url` that is not a PostgreSQL URL is refused (the only other store is a file: store.path). */
export const STORE_URL_NOT_POSTGRES = 'must be a PostgreSQL URL (postgres://user[:password]@host[:port]/database); a SQLite store is store.path'

/** Global settings: quotas across all groups (and per provider), store, api. */
export const GlobalSchema = z.strictObject({
  quotas: QuotaLimitsSchema.extend({
    perProvider: z.partialRecord(z.enum(['local', 'kubernetes', 'aws', 'sim']), QuotaLimitsSchema).default({}),
  }).default({ perProvider: {} }),
  store: z
    .strictObject({
      path: z.string().min(1).default('tide.db'),
      /**
       * A PostgreSQL store (several tide processes on one state: HA); overrides path. The URL may
       * hold a password: it is printed only redacted (core/postgres-url.ts), and better given
       * through libpq's PGPASSWORD or ~/.pgpass than in the file.
       */
      url: z.string().refine((u) => isPostgresUrl(u) && URL.canParse(u), { error: STORE_URL_NOT_POSTGRES, abort: true }).optional(),
    })
    .default({ path: 'tide.db' }),
  api: z
    .strictObject({
      listen: z.number().int().min(0).max(65535).default(7070),
      host: z.string().default('127.0.0.1'),
      /** Name of the environment variable that holds the API token (the token itself never sits in the file). */
      tokenEnv: z.string().default('TIDE_API_TOKEN'),
      /**
       * Whether reads (GET) are open from any address. false (the default): reads from beyond
       * loopback need the token, as changes always do; true: anyone who reaches api.host:api.listen
       * may read status, events and metrics (never a launch.env value).
       */
      openReads: z.boolean().default(false),
    })
    .default({ listen: 7070, host: '127.0.0.1', tokenEnv: 'TIDE_API_TOKEN', openReads: false }),
})

export type Size = z.infer<typeof SizeSchema>
export type GroupSpec = z.infer<typeof GroupSchema>
export type RoutingSpec = z.infer<typeof RoutingSchema>
export type HealthSpec = z.infer<typeof HealthSchema>
export type BackupSpec = z.infer<typeof BackupSchema>
export type GroupInput = z.input<typeof GroupSchema>
export type GlobalSpec = z.infer<typeof GlobalSchema>
export type MetricSpec = z.infer<typeof MetricSchema>
export type MetricRef = z.infer<typeof MetricRefSchema>
export type StepRule = z.infer<typeof StepRuleSchema>
export type ScalingRules = GroupSpec['behavior']['scaleUp']
export type ScheduleSpec = z.infer<typeof ScheduleSchema>
export type QuotaLimits = z.infer<typeof QuotaLimitsSchema>
export type AlertEvent = z.infer<typeof AlertEventSchema>
export type SloSpec = z.infer<typeof SloSchema>
export type HeadroomSpec = z.infer<typeof HeadroomSchema>

/** A whole tide.yaml: its groups and its global settings. */
export interface TideConfig {
  groups: GroupSpec[]
  global: GlobalSpec
}
