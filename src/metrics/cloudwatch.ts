/**
 * The signals of an `aws` group from Amazon CloudWatch (the provider's own metrics API, as
 * /proc and the router are the local one's): each instance's CPUUtilization (namespace AWS/EC2,
 * dimension InstanceId, Average over aws.metricsPeriodSeconds) and, when the group names its
 * Application Load Balancer target group (aws.albTargetGroupArn), RequestCountPerTarget
 * (AWS/ApplicationELB, dimension TargetGroup, Sum per period) as requests/s per instance and for
 * the group. One GetMetricData call per 500 queries on each refresh (the controller's sync
 * period); read() answers from what the last refresh got.
 *
 * A source must never fail a tick: a refresh that fails leaves every value missing (the engine
 * then holds, never scales in on it) and says why in lastError(); an instance with no datapoint
 * in the last five periods has no cpu (missing, not idle).
 */
import type { GetMetricDataCommandInput, GetMetricDataCommandOutput, MetricDataQuery } from '@aws-sdk/client-cloudwatch'
import type { InstanceSample, InstanceView, Signals } from '../engine/types.ts'
import type { GroupSpec } from '../spec/schema.ts'

/** The CloudWatch call this source makes; a CloudWatchClient's `send(new GetMetricDataCommand(input))` in production. */
export type GetMetricData = (region: string, input: GetMetricDataCommandInput) => Promise<GetMetricDataCommandOutput>

export interface CloudWatchSignalsOptions {
  readonly getMetricData: GetMetricData
  /** The group's instance ids now (the provider's last list), whose cpu is read. */
  readonly instanceIds: (spec: GroupSpec) => readonly string[]
}

/** The most queries GetMetricData takes in one call. */
const MAX_QUERIES = 500

/** How many periods back a datapoint still counts. */
const LOOKBACK_PERIODS = 5

/** The `TargetGroup` dimension of a target group ARN: its resource part, `targetgroup/NAME/ID`; undefined when the ARN has none. */
export function targetGroupDimension(arn: string): string | undefined {
  const i = arn.indexOf(':targetgroup/')
  return i < 0 ? undefined : arn.slice(i + 1)
}

/** What one group's last refresh got. */
interface GroupReading {
  readonly atMs: number
  readonly cpu: Map<string, { readonly ratio: number; readonly atMs: number }>
  /** RequestCountPerTarget over the last period, per second; undefined without a target group or a datapoint. */
  readonly rpsPerTarget: number | undefined
}

/** CloudWatch signals of the aws groups. */
export class CloudWatchSignals {
  readonly #o: CloudWatchSignalsOptions
  readonly #readings = new Map<string, GroupReading>()
  readonly #errors = new Map<string, string>()

  constructor(options: CloudWatchSignalsOptions) {
    this.#o = options
  }

  /** Why the group's last refresh failed, or undefined when it succeeded (or never ran). */
  lastError(group: string): string | undefined {
    return this.#errors.get(group)
  }

  /** Reads the group's metrics from CloudWatch; never rejects (a failure leaves the values missing). */
  async refresh(spec: GroupSpec, nowMs: number): Promise<void> {
    const aws = spec.aws
    if (aws === undefined) return
    const periodS = aws.metricsPeriodSeconds
    const ids = [...this.#o.instanceIds(spec)]
    const queries: MetricDataQuery[] = ids.map((id, i) => ({
      Id: `cpu${i}`,
      MetricStat: { Metric: { Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Dimensions: [{ Name: 'InstanceId', Value: id }] }, Period: periodS, Stat: 'Average' },
      ReturnData: true,
    }))
    const tg = aws.albTargetGroupArn === undefined ? undefined : targetGroupDimension(aws.albTargetGroupArn)
    if (tg !== undefined) {
      queries.push({ Id: 'requests', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCountPerTarget', Dimensions: [{ Name: 'TargetGroup', Value: tg }] }, Period: periodS, Stat: 'Sum' }, ReturnData: true })
    }
    if (queries.length === 0) {
      this.#readings.set(spec.group, { atMs: nowMs, cpu: new Map(), rpsPerTarget: undefined })
      this.#errors.delete(spec.group)
      return
    }
    const cpu = new Map<string, { ratio: number; atMs: number }>()
    let rpsPerTarget: number | undefined
    try {
      for (let start = 0; start < queries.length; start += MAX_QUERIES) {
        const chunk = queries.slice(start, start + MAX_QUERIES)
        let token: string | undefined
        do {
          const next = token
          const out = await this.#o.getMetricData(aws.region, {
            StartTime: new Date(nowMs - LOOKBACK_PERIODS * periodS * 1000),
            EndTime: new Date(nowMs),
            ScanBy: 'TimestampDescending',
            MetricDataQueries: chunk,
            ...(next === undefined ? {} : { NextToken: next }),
          })
          for (const r of out.MetricDataResults ?? []) {
            const latest = latestPoint(r.Timestamps, r.Values)
            if (latest === undefined || r.Id === undefined) continue
            if (r.Id === 'requests') {
              rpsPerTarget = latest.value / periodS
              continue
            }
            const id = ids[Number(r.Id.slice(3))]
            // A datapoint's timestamp starts its period; the window it averages ends a period later (or now, for the current one).
            if (id !== undefined) cpu.set(id, { ratio: latest.value / 100, atMs: Math.min(nowMs, latest.atMs + periodS * 1000) })
          }
          token = out.NextToken
        } while (token !== undefined && token !== '')
      }
    } catch (err) {
      this.#readings.delete(spec.group)
      this.#errors.set(spec.group, `CloudWatch GetMetricData: ${err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err)}`)
      return
    }
    this.#readings.set(spec.group, { atMs: nowMs, cpu, rpsPerTarget })
    this.#errors.delete(spec.group)
  }

  /**
   * The group's signals from the last refresh: cpu of each instance that had a datapoint, and
   * with a target group, requests/s per serving instance and for the group (per target × the
   * instances that receive traffic). Undefined before a refresh succeeded.
   */
  read(spec: GroupSpec, instances: readonly InstanceView[], nowMs: number): Signals | undefined {
    const reading = this.#readings.get(spec.group)
    if (reading === undefined) return undefined
    const periodMs = (spec.aws?.metricsPeriodSeconds ?? 60) * 1000
    const serving = instances.filter((v) => v.phase === 'in-service' || v.phase === 'warming')
    const samples = new Map<string, InstanceSample>()
    for (const v of instances) {
      const c = reading.cpu.get(v.id)
      const perTarget = serving.includes(v) ? reading.rpsPerTarget : undefined
      if (c === undefined && perTarget === undefined) continue
      samples.set(v.id, { ...(c === undefined ? {} : { cpuRatio: c.ratio, cpuAtMs: c.atMs, cpuWindowMs: periodMs }), ...(perTarget === undefined ? {} : { rps: perTarget }) })
    }
    const rps = reading.rpsPerTarget === undefined ? undefined : reading.rpsPerTarget * serving.length
    return { atMs: Math.min(nowMs, reading.atMs), instances: samples, group: rps === undefined ? {} : { rps } }
  }
}

/** The newest (timestamp, value) pair of a result, whatever order CloudWatch gave them in. */
function latestPoint(timestamps: readonly Date[] | undefined, values: readonly number[] | undefined): { atMs: number; value: number } | undefined {
  let best: { atMs: number; value: number } | undefined
  const n = Math.min(timestamps?.length ?? 0, values?.length ?? 0)
  for (let i = 0; i < n; i++) {
    const atMs = timestamps?.[i]?.getTime()
    const value = values?.[i]
    if (atMs === undefined || value === undefined || !Number.isFinite(value)) continue
    if (best === undefined || atMs > best.atMs) best = { atMs, value }
  }
  return best
}
